"""Link a Page or an Instagram account to a shop from the command line, with a business
system-user token (Meta recommends them for servers: they do not expire) or any token that can
manage the Page.

    manage.py meta_link SHOP --token TOKEN --list
    manage.py meta_link SHOP --token TOKEN --page PAGE_ID [--instagram]
    manage.py meta_link SHOP --token TOKEN --instagram-login

`--list` shows what the token can link; `--page` links a Page (Messenger) and, with
`--instagram`, the Instagram account connected to it; `--instagram-login` links the account of
an Instagram Login token. With `--token -` the token is read from the standard input (it then
shows in no process list or shell history).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_app.meta import accounts
from channels_app.meta.client import Token
from channels_app.meta.errors import GraphError
from channels_app.models import MetaAccount
from sellers.models import Seller

STDIN = frozenset({"-"})  # `--token -`


class Command(BaseCommand):
    help = "Link a Facebook Page or an Instagram account to a shop with a (system-user) token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("shop", help="The shop's slug.")
        parser.add_argument("--token", required=True, help='The access token ("-": read from the standard input).')
        parser.add_argument("--list", action="store_true", help="Show what the token can link.")
        parser.add_argument("--page", default="", help="The id of the Page to link.")
        parser.add_argument("--instagram", action="store_true", help="Also link the Page's Instagram account.")
        parser.add_argument("--instagram-login", action="store_true", help="The token is an Instagram Login token.")

    def handle(self, *args: Any, **options: Any) -> None:
        seller = Seller.objects.filter(slug=options["shop"]).first()
        if seller is None:
            raise CommandError(f"No shop {options['shop']!r}.")
        raw = sys.stdin.readline() if options["token"] in STDIN else options["token"]
        if not raw.strip():
            raise CommandError("No token given.")
        token = Token(access_token=raw.strip(), expires_at=None)
        try:
            if options["instagram_login"]:
                candidates = [accounts.instagram_candidate(token)]
            else:
                candidates = accounts.facebook_candidates(token)
        except GraphError as exc:
            raise CommandError(f"Meta refused the token: {exc}") from None
        if options["list"]:
            for candidate in candidates:
                label = f"@{candidate.username}" if candidate.username else candidate.name
                self.stdout.write(f"{candidate.kind:16} {candidate.external_id:20} {label}")
            return
        chosen = self._chosen(candidates, options)
        if not chosen:
            raise CommandError("Nothing to link: give --page (see --list) or --instagram-login.")
        for index, candidate in enumerate(chosen, 1):
            self.stdout.write(f"[{index}/{len(chosen)}] linking {candidate.kind} {candidate.external_id}…")
            try:
                account = accounts.account_link(seller, candidate, operator=True)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            self.stdout.write(self.style.SUCCESS(f"  linked as channel account {account.pk} ({account})"))

    def _chosen(self, candidates: list[accounts.Candidate], options: dict[str, Any]) -> list[accounts.Candidate]:
        if options["instagram_login"]:
            return candidates
        page = options["page"]
        chosen = [c for c in candidates if c.kind == MetaAccount.Kind.PAGE and c.external_id == page]
        if page and not chosen:
            raise CommandError(f"The token cannot manage the Page {page}.")
        if options["instagram"]:
            instagram = [c for c in candidates if c.kind == MetaAccount.Kind.INSTAGRAM_PAGE and c.page_id == page]
            if not instagram:
                raise CommandError(f"The Page {page} has no Instagram account connected.")
            chosen += instagram
        return chosen
