"""Offline speech: Vosk menu recognition, pyttsx3 prompt rendering, telephone audio conversion."""
