"""Platform connectors: one module per platform behind the interface in ``base``
(``meta`` for the Meta Graph API, ``demo`` for the labelled demo provider). Pure Python:
no Django here (an import-linter contract); ``koastops.quality.connectors`` builds one
for a pixel from its provider, decrypted token and the settings."""
