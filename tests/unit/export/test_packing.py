"""How an export cuts its results into archives, on both sides of EXPORT_MAX_ARCHIVE_BYTES: every result in
exactly one archive, in name order, each with its task's image outputs."""

from typing import Any

from export_svc.packing import pack


def _result(name: str, size: int, task: str) -> dict[str, Any]:
    return {"file_name": name, "size_bytes": size, "shard_id": task}


def test_results_fill_an_archive_up_to_the_limit_and_start_the_next_past_it() -> None:
    results = [_result(f"r{i}.jsonl", 10, f"t{i}") for i in range(4)]
    at_limit = pack(results, [], max_bytes=40)
    assert [len(a.results) for a in at_limit] == [4] and at_limit[0].size == 40
    past = pack(results, [], max_bytes=39)
    assert [len(a.results) for a in past] == [3, 1] and [a.size for a in past] == [30, 10]


def test_results_go_in_name_order_each_exactly_once() -> None:
    results = [_result(name, 5, name) for name in ("c", "a", "d", "b", "e")]
    archives = pack(results, [], max_bytes=10)
    assert [[r["file_name"] for r in a.results] for a in archives] == [["a", "b"], ["c", "d"], ["e"]]


def test_a_task_s_images_travel_with_its_result_and_count_towards_the_limit() -> None:
    results = [_result("a", 10, "t1"), _result("b", 10, "t2")]
    images = [{"file_name": "a-1.jpg", "size_bytes": 15, "shard_id": "t1"},
              {"file_name": "b-1.jpg", "size_bytes": 1, "shard_id": "t2"}]
    first, second = pack(results, images, max_bytes=30)
    assert [i["file_name"] for i in first.images] == ["a-1.jpg"] and first.size == 25
    assert [i["file_name"] for i in second.images] == ["b-1.jpg"] and second.size == 11


def test_a_result_larger_than_the_limit_still_makes_its_own_archive_and_nothing_makes_one_empty() -> None:
    archives = pack([_result("big", 100, "t1"), _result("small", 1, "t2")], [], max_bytes=10)
    assert [[r["file_name"] for r in a.results] for a in archives] == [["big"], ["small"]]
    (empty,) = pack([], [], max_bytes=10)
    assert empty.results == [] and empty.size == 0
