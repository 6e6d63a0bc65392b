import pytest


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    """Each test gets an empty checkpoint directory (never the shared var/test one)."""
    settings.ACTIVITY_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return settings.ACTIVITY_CHECKPOINT_DIR
