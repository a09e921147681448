"""A word search of error messages is capped: a 200-character query of one-letter words would otherwise become up to
100 prefix terms, each a walk of the shared words' index."""

import httpx

from sync.constants import ITEM_WORD_SEARCH_MAX_TERMS
from sync.item_queries import word_query
from tests.conftest import TenantFixture

LONGEST_QUERY = " ".join("abcdefghijklmnopqrstuvwxyz"[n % 26] for n in range(100))[:200]


def test_a_search_becomes_at_most_the_capped_number_of_distinct_prefix_terms() -> None:
    terms = (word_query(LONGEST_QUERY) or "").split(" & ")
    assert len(terms) == ITEM_WORD_SEARCH_MAX_TERMS == 8
    assert terms == [f"{letter}:*" for letter in "abcdefgh"]
    assert word_query("closed closed period") == "closed:* & period:*"


async def test_the_longest_search_the_api_takes_is_answered(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.get("/v1/export-items", headers=tenant.headers, params={"search": LONGEST_QUERY})
    assert response.status_code == 200, response.text
