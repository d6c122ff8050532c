"""Readable names for vocabulary rows the importer creates; anything else is title-cased."""

from __future__ import annotations

LANGUAGE_NAMES = {
    "am": "Amharic",
    "ar": "Arabic",
    "ase": "American Sign Language",
    "bn": "Bengali",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "gu": "Gujarati",
    "he": "Hebrew",
    "hi": "Hindi",
    "hmn": "Hmong",
    "ht": "Haitian Creole",
    "it": "Italian",
    "ja": "Japanese",
    "km": "Khmer",
    "ko": "Korean",
    "lo": "Lao",
    "ne": "Nepali",
    "nv": "Navajo",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "so": "Somali",
    "sw": "Swahili",
    "tl": "Tagalog",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "yi": "Yiddish",
    "zh": "Chinese",
}
INSURANCE_NAMES = {
    "bcbs": "Blue Cross Blue Shield",
    "self-pay": "Self-pay",
    "united": "UnitedHealthcare",
    "tricare": "TRICARE",
    "va": "VA Community Care",
}


def vocabulary_name(slug: str) -> str:
    """The name given to a specialty or insurance slug the directory has not seen yet."""
    return INSURANCE_NAMES.get(slug) or slug.replace("-", " ").title()


def language_name(code: str) -> str:
    base = code.split("-", 1)[0].lower()
    name = LANGUAGE_NAMES.get(code) or LANGUAGE_NAMES.get(base)
    if name is None:
        return code
    return name if base == code else f"{name} ({code})"
