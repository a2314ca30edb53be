"""Which schema a worker runs on and the API reports ready on (db/migrate.py
`behind_head`): at this code's head or past it; not behind it, not unknown to it."""

from alembic.script import ScriptDirectory

from db.migrate import alembic_config, behind_head, head_revision


def _head_and_previous() -> tuple[str, str]:
    head = head_revision()
    assert head is not None
    previous = ScriptDirectory.from_config(alembic_config("postgresql://")).get_revision(head)
    assert previous is not None and isinstance(previous.down_revision, str)
    return head, previous.down_revision


def test_the_head_and_a_newer_release_s_revision_are_fine() -> None:
    head, _ = _head_and_previous()
    newer = f"{int(head) + 1:0{len(head)}d}"
    assert behind_head(head) is None
    assert behind_head(newer) is None


def test_a_schema_behind_or_never_migrated_says_run_oms_migrate() -> None:
    head, previous = _head_and_previous()
    assert behind_head(previous) == f"schema at {previous}, code expects {head}: run `oms migrate`"
    assert behind_head(None) == "schema not migrated: run `oms migrate`"


def test_a_revision_this_code_does_not_know_and_not_past_its_head_is_named() -> None:
    """e.g. a branch's renumbered migration (0009 became 0011): not taken for newer."""
    head, _ = _head_and_previous()
    for unknown in ("0009", "ffff_other", "00"):
        assert behind_head(unknown) == (
            f"schema at {unknown}, a revision this code does not know (its head is {head})"
        )
