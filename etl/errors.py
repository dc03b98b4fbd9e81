"""Problems found in a bureau report, worded for the person who has the file open in Excel."""

from __future__ import annotations

from dataclasses import dataclass


def column_letter(idx: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the column names users see in Excel."""
    letters = ""
    idx += 1
    while idx:
        idx, rem = divmod(idx - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True)
class Problem:
    """One problem: file, the row and column as Excel shows them, the value, and why (zh and en)."""

    file_name: str
    row: int | None
    column: str | None  # "E（数值）": the Excel column letter and the header the user typed
    value: str | None
    reason_zh: str
    reason_en: str

    @classmethod
    def file(cls, file_name: str, reason_zh: str, reason_en: str) -> Problem:
        return cls(file_name, None, None, None, reason_zh, reason_en)

    def zh(self) -> str:
        where = [self.file_name]
        if self.row is not None:
            where.append(f"第{self.row}行")
        if self.column:
            letter, _, title = self.column.partition("（")
            where.append(f"{letter}列（{title}" if title else f"{letter}列")
        text = " ".join(where)
        if self.value is not None and self.value != "":
            text += f" 值“{self.value}”"
        return f"{text}：{self.reason_zh}"

    def en(self) -> str:
        where = [self.file_name]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        text = ", ".join(where)
        if self.value is not None and self.value != "":
            text += f" value {self.value!r}"
        return f"{text}: {self.reason_en}"


class FileRejected(Exception):
    """The report cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.zh() for p in problems))

    @classmethod
    def whole(cls, file_name: str, reason_zh: str, reason_en: str) -> FileRejected:
        """The file refused as a whole, for one reason (no row or column to point at)."""
        return cls([Problem.file(file_name, reason_zh, reason_en)])
