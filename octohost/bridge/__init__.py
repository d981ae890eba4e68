"""Bridges from octohost to other systems (message brokers); each imports its client library only
when it is switched on, so a daemon that uses none pays nothing for them."""
