"""Comments, as the `changes` of an entry: a Page's `feed` (item `comment`) and Instagram's
`comments` field. Both may be answered by a public reply or one private reply (a message to the
comment's author, by comment id, within 7 days), so the comment id is what matters most.

A Page comment says `verb` (add, edited, remove) and `created_time`; an Instagram comment only
notifies new comments and carries no time of its own (the entry's is used). Meta leaves `from`
out of Page comments whose author it does not disclose to the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels_app.meta.values import obj, scalar


@dataclass(frozen=True)
class Comment:
    id: str
    text: str = ""
    from_id: str = ""
    from_name: str = ""  # the Facebook name, or the Instagram username
    media_id: str = ""  # Instagram
    post_id: str = ""  # Facebook Page
    parent_id: str = ""  # the post (a Page's top-level comment) or the comment replied to
    verb: str = "add"  # add, edited, remove
    media_product_type: str = ""  # Instagram: FEED, REELS, STORY, AD

    @property
    def is_reply(self) -> bool:
        return bool(self.parent_id) and self.parent_id != self.post_id


def page_comment(value: Mapping[str, Any]) -> Comment:
    author = obj(value.get("from"))
    return Comment(
        id=scalar(value.get("comment_id")),
        text=scalar(value.get("message")),
        from_id=scalar(author.get("id")),
        from_name=scalar(author.get("name")),
        post_id=scalar(value.get("post_id")) or scalar(obj(value.get("post")).get("id")),
        parent_id=scalar(value.get("parent_id")),
        verb=scalar(value.get("verb")) or "add",
    )


def instagram_comment(value: Mapping[str, Any]) -> Comment:
    author = obj(value.get("from"))
    media = obj(value.get("media"))
    return Comment(
        id=scalar(value.get("id")),
        text=scalar(value.get("text")),
        from_id=scalar(author.get("id")),
        from_name=scalar(author.get("username")),
        media_id=scalar(media.get("id")),
        parent_id=scalar(value.get("parent_id")),
        media_product_type=scalar(media.get("media_product_type")),
    )
