from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "koastops.accounts"
    label = "accounts"
    verbose_name = "Accounts and access"
