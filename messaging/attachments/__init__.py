"""Attachments: files uploaded to a chat, then attached to one message (API.md, Attachments).

models (the row), files (what the bytes are, thumbnails, storage), services (upload, claim
at send time, removal with the data, purge of unused uploads), views and urls (upload,
download, thumbnail). Message bodies carry them through messaging.rows.
"""
