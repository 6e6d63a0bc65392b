"""API: launches (under /api/v1/brands/{slug}/…), through the same policy module and
services as the pages.

- ``GET launches`` (``launch.view``): the launches the token's user may see
  (``selectors.visible_launches``: a narrowed media buyer only those on their ad
  accounts), newest change first, filters ``state``, ``ad_account`` and ``q`` (campaign
  name), paginated like every list; one query per page.
- ``POST launches`` (``launch.create``): a new draft from a body in the shape
  ``inputs.parse`` reads (ids for ad_account, pixel, optimization_event; market codes;
  ISO times, naive ones in the ad account's time zone); 201 with the launch; 422 names each
  problem by its path (``ad_sets.0.ads.1.landing_url``).
- ``GET launches/{id}`` (``launch.view``): the launch in the same shape (so a GET's body
  can be sent back), with its state, version (also the ``ETag``), content hash, approval
  and latest check run.
- ``PATCH launches/{id}`` (``launch.edit``): a partial body merged over the launch's
  current content (a given ``ad_sets`` replaces the whole structure).
- ``POST launches/{id}/submit|rerun|approve|reject|request-changes|cancel|launched``: one
  service each.
- ``GET launches/{id}/checks`` (``launch.view``): the latest check run (or ``?run=``) and
  its results in the registry's order.

Every write needs ``If-Match: "<version>"`` (the version the client saw): without it 428,
stale 412 with the current version, a state the intent does not start from 409, a
reviewer's own launch 403 (four eyes), bad input 422 by field (``overrides.<check key>``,
``comment``, ``platform_campaign_id``)."""

from koastops.api.routers.launches.operations import router

__all__ = ["router"]
