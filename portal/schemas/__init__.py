"""Pydantic input models shared by the HTML form views and the JSON APIs."""
