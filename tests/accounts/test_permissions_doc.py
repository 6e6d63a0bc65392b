from koastops.accounts import policies
from tests.accounts.permissions_doc import capability_table, roles_allowed


def test_docs_table_and_policy_table_list_the_same_capabilities():
    assert set(capability_table()) == set(policies.CAPABILITIES)


def test_docs_table_and_policy_table_agree_role_by_role():
    for capability, roles in policies.CAPABILITIES.items():
        assert roles_allowed(capability) == roles, capability


def test_admin_holds_every_capability_in_the_docs_but_the_role_bound_ones():
    """Admin passes every capability except those segregation of duties binds to the role
    itself (``policies.ROLE_BOUND``): the docs and the code say the same."""
    without_admin = {cap for cap, row in capability_table().items() if not row["admin"]}
    assert without_admin == set(policies.ROLE_BOUND)
    assert "consent.sign_off" in without_admin
