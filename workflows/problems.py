"""What is wrong with one field, said twice: plain English text for the API's error `details`
(a Problem is a str), and a code with values so a page can word it in the user's language,
money in yuan (app/web.py `problem_text`).

    Problem("between 1 and 6900", "range_fen", low=1, high=6900)
"""


class Problem(str):
    def __new__(cls, text, code, **values):
        problem = super().__new__(cls, text)
        problem.code, problem.values = code, values
        return problem

    def __reduce__(self):  # survives pickling (Celery, caches) as a Problem
        return (_problem, (str(self), self.code, self.values))


def _problem(text, code, values):
    return Problem(text, code, **values)
