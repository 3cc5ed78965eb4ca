from worker_svc.spans import Span, plan_spans


def row(key: str, offset: int | None, size: int) -> dict[str, object]:
    return {"object_key": key, "byte_offset": offset, "size_bytes": size}


def test_neighbours_in_one_archive_share_a_span_and_whole_objects_have_none() -> None:
    files = [row("a.tar", 512, 100), row("a.tar", 1536, 200), row("img.jpg", None, 50), row("a.tar", 2048, 10)]
    spans = plan_spans(files)
    assert spans[0] == spans[1] == spans[3] == Span("a.tar", 512, 2058)  # a whole object between is no break
    assert spans[2] is None


def test_spans_break_at_another_archive_a_wide_gap_the_size_limit_and_going_backwards() -> None:
    files = [row("a.tar", 0, 100), row("b.tar", 100, 100),           # another archive
             row("b.tar", 100 + 100 + 70_000, 10),                    # a gap wider than max_gap
             row("b.tar", 70_300, 600), row("b.tar", 70_900, 600),    # the second crosses max_span
             row("b.tar", 10, 10)]                                    # before the span's start
    spans = plan_spans(files, max_span=1000, max_gap=64 * 1024)
    assert spans[0] == Span("a.tar", 0, 100)
    assert spans[1] == Span("b.tar", 100, 200)
    assert spans[2] == spans[3] == Span("b.tar", 70_200, 70_900)
    assert spans[4] == Span("b.tar", 70_900, 71_500)
    assert spans[5] == Span("b.tar", 10, 20)
    # one file larger than max_span still gets a span of its own
    assert plan_spans([row("c.tar", 0, 5000)], max_span=1000) == [Span("c.tar", 0, 5000)]


def test_empty_members_need_no_request() -> None:
    assert plan_spans([row("a.tar", 512, 0), row("a.tar", 512, 7)]) == [None, Span("a.tar", 512, 519)]
