"""What the app does to its process while it runs, and undoes when it stops."""

from __future__ import annotations

import gc

from tests.api.support import FastContainer, running


async def test_start_up_objects_are_left_out_of_garbage_collection_while_serving(
    container: FastContainer,
) -> None:
    gc.unfreeze()
    async with running(container) as (_app, client):
        # Full collections under load would otherwise walk every object of start-up.
        assert gc.get_freeze_count() > 0
        assert (await client.get("/health")).status_code == 200
    assert gc.get_freeze_count() == 0
