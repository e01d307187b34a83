from __future__ import annotations

import json

from thumbnail.handler import handler


def test_it_shrinks_to_the_size_asked_for() -> None:
    response = handler({"size": 3}, None)

    assert json.loads(response["body"]) == {"shape": [3, 3, 3]}
