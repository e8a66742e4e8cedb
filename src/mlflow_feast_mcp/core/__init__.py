"""Pieces every tool shares: errors, paging, the response budget, formatting and rendering."""
