"""Timeline embeds: the iframe page, oEmbed and TimelineJS JSON."""

from api.embed.routes import embed_routes

__all__ = ["embed_routes"]
