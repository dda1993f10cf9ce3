"""The category catalogue a ticket may carry (诉求分类), as the ticket webhook and Open311 accept
it: each configured category with the words that speak for it (the classifier's vocabulary), so
a vendor's desk client or a citizen's app can offer a pick list and a search."""

from functools import cache
from importlib import resources

from hotline.intake.schemas import CategoryPublic
from hotline.shared.domain.classifier import read_classes


@cache
def vocabulary() -> dict[str, tuple[str, ...]]:
    """Each category's words (domain/vocabulary/categories.txt), most telling first."""
    text = (
        resources.files("hotline.shared.domain")
        .joinpath("vocabulary/categories.txt")
        .read_text("utf-8")
    )
    return {label: tuple(dict.fromkeys(words)) for label, words in read_classes(text).items()}


def category_catalogue(categories: tuple[str, ...]) -> list[CategoryPublic]:
    """The configured categories in their configured order; `code` is what a ticket's
    `category` (and an Open311 `service_code`) takes."""
    words = vocabulary()
    return [
        CategoryPublic(code=name, name=name, keywords=list(words.get(name, ())))
        for name in categories
    ]
