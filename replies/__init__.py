"""Replies at peak: the reply runner.

An asyncio process (`python manage.py run_replies`, the Procfile's `replies` line) that answers
customers: it reads the reply stream (`replies.queue`), waits on the model without holding a
thread or a database connection, runs database work on a small pool of threads
(`replies.database`), cancels and restarts a reply when a newer message of the same burst
arrives, and shares its capacity fairly between sellers (`replies.scheduling`).
"""
