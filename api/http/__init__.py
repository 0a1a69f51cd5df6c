"""The HTTP server (Starlette): the app and one middleware or concern per module."""
