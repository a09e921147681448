"""While the app serves, what start-up built is out of the garbage collector's sight and young collections are
rarer (`ledgerline.heap`); stopping undoes both."""

import gc

from core.settings import Settings
from ledgerline.app import create_app
from ledgerline.heap import YOUNG_COLLECTION_THRESHOLD


async def test_a_serving_app_freezes_its_start_up_objects_and_collects_young_ones_less_often(
    settings: Settings,
) -> None:
    threshold = gc.get_threshold()
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        frozen, serving = gc.get_freeze_count(), gc.get_threshold()
    assert frozen > 0
    assert serving == (YOUNG_COLLECTION_THRESHOLD, *threshold[1:])
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0
