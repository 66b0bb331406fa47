"""The benefit formula: a small, safe expression language over the policy frame's numeric columns and the item's
parameters, compiled to Polars expressions.

    min(loan_interest * rate, 500000)          贴息: a rate of the interest paid, at most 50万元
    award                                      a fixed award (a parameter)
    rd_expense_hnte_lag1 * 0.05                5% of last year's R&D expense

Parsed with Python's `ast` (mode "eval") and walked node by node: only numbers, names, + − × ÷, unary minus,
parentheses, and the functions min, max and round are accepted; anything else (attributes, calls of other
functions, comparisons, strings, subscripts, lambdas …) is refused with a Chinese message naming what and where.
Nothing is ever evaluated by Python: the tree is turned into Polars expressions. Full-width operators and
brackets (× ÷ （ ） ，) are accepted as their ASCII forms.

Per enterprise, the compiled formula gives three expressions: the value (yuan, Float64), the problem that
prevents computing it (a missing input: "缺少数据：…"; a division by zero: "除数 … 为 0"; a result that is not a
finite number) or null, and the formula with the enterprise's values substituted, in Chinese. A problem makes
the value null: never inf, NaN or a crash.
"""

from __future__ import annotations

import ast
import keyword
import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from kechuang.policies import columns as cols

MAX_LENGTH = 500
MAX_NODES = 200
FUNCTIONS = {"min": "取小值", "max": "取大值", "round": "四舍五入"}
OPERATORS = {ast.Add: ("+", "+"), ast.Sub: ("-", "−"), ast.Mult: ("*", "×"), ast.Div: ("/", "÷")}
PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}
FULL_WIDTH = str.maketrans({"×": "*", "÷": "/", "（": "(", "）": ")", "，": ",", "－": "-", "＋": "+"})
PARAMETER_UNITS = {"元": cols.MONEY, "比例": cols.RATIO, "数": ""}


class FormulaError(ValueError):
    """What is wrong with a formula or its parameters, in Chinese (one message per problem)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("；".join(problems))


@dataclass(frozen=True)
class Parameter:
    name: str
    label: str
    value: float
    unit: str  # 元 / 比例 / 数

    @property
    def text(self) -> str:
        return cols.python_value_text(self.value, PARAMETER_UNITS[self.unit])


def parameters_from(data: Any) -> dict[str, Parameter]:
    """The item's parameters ({name: {"label", "value", "unit"}}), checked; FormulaError names every problem."""
    if data in (None, "", {}):
        return {}
    if not isinstance(data, dict):
        raise FormulaError(['参数须为对象：{参数名: {"label": 名称, "value": 数值, "unit": 元/比例/数}}'])
    problems, result = [], {}
    for name, spec in data.items():
        where = f"参数“{name}”"
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            problems.append(f"{where}：参数名须由字母、数字、下划线或汉字组成，且不以数字开头")
            continue
        if name in cols.COLUMNS or name in FUNCTIONS:
            problems.append(f"{where}：与数据列或函数同名，请换一个参数名")
            continue
        if not isinstance(spec, dict):
            problems.append(f'{where}：须为对象 {{"label", "value", "unit"}}')
            continue
        unknown = set(spec) - {"label", "value", "unit"}
        if unknown:
            problems.append(f"{where}：未知字段 {sorted(unknown)}，可用 label、value、unit")
        label = spec.get("label")
        if not isinstance(label, str) or not label.strip():
            problems.append(f"{where}：须有名称 label")
            label = name
        value = spec.get("value")
        number = _number(value)
        if number is None:
            problems.append(f"{where}：取值 {value!r} 不是有限的数字")
        unit = spec.get("unit", "数")
        if unit not in PARAMETER_UNITS:
            problems.append(f"{where}：单位 {unit!r} 不是 元、比例 或 数")
        if number is not None and unit in PARAMETER_UNITS:
            result[name] = Parameter(name, label.strip(), number, unit)
    if problems:
        raise FormulaError(problems)
    return result


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --- parsing and checking --------------------------------------------------------------------------------


@dataclass
class Formula:
    """A checked formula: its tree and what it names."""

    source: str
    tree: ast.expr
    columns: list[str] = field(default_factory=list)  # the data columns it reads, in order of appearance
    parameters: dict[str, Parameter] = field(default_factory=dict)


def parse(source: str, parameters: dict[str, Parameter] | None = None) -> Formula:
    """Check a formula against the policy frame's numeric columns and `parameters`; FormulaError names each problem
    (an unknown name, a forbidden construct, with its position), nothing is evaluated."""
    parameters = parameters or {}
    text = (source or "").strip().translate(FULL_WIDTH)
    if not text:
        raise FormulaError(["公式不能为空"])
    if len(text) > MAX_LENGTH:
        raise FormulaError([f"公式超过 {MAX_LENGTH} 个字符"])
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as error:
        position = f"（第 {error.offset} 个字符处）" if error.offset else ""
        raise FormulaError([f"公式“{text}”不是有效的算式{position}：请检查括号、运算符和逗号"]) from None
    checker = _Checker(text, parameters)
    checker.visit(tree)
    if checker.problems:
        raise FormulaError(checker.problems)
    return Formula(text, tree, checker.columns, {n: parameters[n] for n in checker.parameters})


class _Checker:
    def __init__(self, text: str, parameters: dict[str, Parameter]):
        self.text, self.parameters_known = text, parameters
        self.problems: list[str] = []
        self.columns: list[str] = []
        self.parameters: list[str] = []
        self.nodes = 0

    def where(self, node: ast.AST) -> str:
        offset = getattr(node, "col_offset", None)
        return f"第 {offset + 1} 个字符处" if offset is not None else ""

    def visit(self, node: ast.AST) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.problems.append(f"公式过长：至多 {MAX_NODES} 个数、名称和运算")
            return
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                self.problems.append(f"{self.where(node)}：“{ast.unparse(node)}”不是数字，公式中只能有数字")
            elif not math.isfinite(float(node.value)):
                self.problems.append(f"{self.where(node)}：数字须为有限数")
        elif isinstance(node, ast.Name):
            self.name(node)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in OPERATORS:
                self.problems.append(
                    f"{self.where(node)}：不支持的运算“{ast.unparse(node)}”，只能用 + − × ÷（* /）"
                )
            self.visit(node.left)
            self.visit(node.right)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                self.problems.append(f"{self.where(node)}：不支持的运算“{ast.unparse(node)}”")
            self.visit(node.operand)
        elif isinstance(node, ast.Call):
            self.call(node)
        else:
            self.problems.append(
                f"{self.where(node)}：不支持“{ast.unparse(node)}”：公式只能由数字、数据列、参数、+ − × ÷、括号和"
                " min、max、round 组成"
            )

    def name(self, node: ast.Name) -> None:
        name = node.id
        if name in cols.COLUMNS:
            if name not in cols.NUMERIC:
                self.problems.append(
                    f"{self.where(node)}：数据列“{name}”（{cols.COLUMNS[name].label}）不是数值，不能参与计算"
                )
            elif name not in self.columns:
                self.columns.append(name)
        elif name in self.parameters_known:
            if name not in self.parameters:
                self.parameters.append(name)
        elif name in FUNCTIONS:
            self.problems.append(f"{self.where(node)}：{name} 是函数，须写成 {name}(…)")
        else:
            self.problems.append(
                f"{self.where(node)}：未知的名称“{name}”：既不是数据列，也不是本政策事项的参数"
            )

    def call(self, node: ast.Call) -> None:
        func = node.func.id if isinstance(node.func, ast.Name) else None
        if func not in FUNCTIONS:
            self.problems.append(
                f"{self.where(node)}：不支持函数“{ast.unparse(node.func)}”，只能用 min、max、round"
            )
            return
        if node.keywords:
            self.problems.append(f"{self.where(node)}：{func} 不接受带名称的参数")
        if func in ("min", "max") and len(node.args) < 2:
            self.problems.append(f"{self.where(node)}：{func} 至少需要两个参数")
        if func == "round":
            if not 1 <= len(node.args) <= 2:
                self.problems.append(f"{self.where(node)}：round 须写成 round(数) 或 round(数, 小数位数)")
            elif len(node.args) == 2:
                digits = node.args[1]
                if not (
                    isinstance(digits, ast.Constant)
                    and isinstance(digits.value, int)
                    and not isinstance(digits.value, bool)
                    and 0 <= digits.value <= 4
                ):
                    self.problems.append(f"{self.where(node)}：round 的小数位数须为 0 至 4 的整数")
                node = ast.Call(func=node.func, args=node.args[:1], keywords=[])
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.problems.append(f"{self.where(arg)}：不支持“{ast.unparse(arg)}”")
            else:
                self.visit(arg)


# --- compiling ------------------------------------------------------------------------------------------------

DIVISION_BY_ZERO = "除数“{text}”为 0"
MISSING = "缺少数据：{labels}"
NOT_FINITE = "计算结果不是有限的数"


@dataclass
class Compiled:
    value: pl.Expr  # yuan, Float64, as computed: may be null, inf or NaN where `problem` says why
    problem: pl.Expr  # String: a missing input or a division by zero, or null (see `checked`)
    substituted: pl.Expr  # String: the formula with the enterprise's values
    labelled: str  # the formula with the names' labels (the same for every enterprise)

    def checked(self, value: pl.Expr, problem: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """(value, problem) made safe, given the columns holding `value` and `problem`: a result that is not a
        finite number is a problem too, and the value is null wherever there is a problem."""
        problem = pl.coalesce(problem, pl.when(~value.is_finite()).then(pl.lit(NOT_FINITE)))
        return pl.when(problem.is_null()).then(value), problem


def compile_formula(formula: Formula, on: Any) -> Compiled:
    """Polars expressions of a checked formula, for a run dated `on` (the labels name its years)."""
    compiler = _Compiler(formula, on)
    value, substituted, labelled, _ = compiler.walk(formula.tree)
    missing = [
        pl.when(pl.col(name).is_null()).then(pl.lit(cols.COLUMNS[name].label_on(on)))
        for name in formula.columns
    ]
    problems = []
    if missing:
        # concat_str skipping nulls, not a list joined: twenty-five times faster on 100,000 rows.
        joined = pl.concat_str(missing, separator="、", ignore_nulls=True)
        problems.append(pl.when(joined.str.len_chars() > 0).then(pl.lit("缺少数据：") + joined))
    problems += compiler.divisions
    problem = pl.coalesce(problems) if problems else pl.lit(None, dtype=pl.String)
    return Compiled(value, problem.cast(pl.String), substituted, labelled)


class _Compiler:
    def __init__(self, formula: Formula, on: Any):
        self.formula, self.on = formula, on
        self.divisions: list[pl.Expr] = []

    def walk(self, node: ast.expr) -> tuple[pl.Expr, pl.Expr, str, int]:
        """(value, substituted text, labelled text, precedence) of a node."""
        if isinstance(node, ast.Constant):
            text = _constant_text(node.value)
            return pl.lit(float(node.value), dtype=pl.Float64), pl.lit(text), text, 3
        if isinstance(node, ast.Name):
            name = node.id
            if name in self.formula.parameters:
                p = self.formula.parameters[name]
                return pl.lit(p.value, dtype=pl.Float64), pl.lit(p.text), p.label, 3
            column = cols.COLUMNS[name]
            value = pl.col(name).cast(pl.Float64)
            return value, cols.value_text(pl.col(name), column.unit), column.label_on(self.on), 3
        if isinstance(node, ast.UnaryOp):
            value, text, label, precedence = self.walk(node.operand)
            if isinstance(node.op, ast.UAdd):
                return value, text, label, precedence
            if precedence < 3:
                text, label = pl.lit("(") + text + pl.lit(")"), f"({label})"
            return -value, pl.lit("−") + text, f"−{label}", 3
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            left = self.walk(node.left)
            right = self.walk(node.right)
            mine = PRECEDENCE[op]
            lv, lt, ll = self._wrap(left, mine, right_side=False, op=op)
            rv, rt, rl = self._wrap(right, mine, right_side=True, op=op)
            symbol = OPERATORS[op][1]
            text = lt + pl.lit(f" {symbol} ") + rt
            label = f"{ll} {symbol} {rl}"
            if op is ast.Add:
                value = lv + rv
            elif op is ast.Sub:
                value = lv - rv
            elif op is ast.Mult:
                value = lv * rv
            else:
                self.divisions.append(
                    pl.when(rv == 0).then(pl.lit(DIVISION_BY_ZERO.format(text=ast.unparse(node.right))))
                )
                value = pl.when(rv != 0).then(lv / rv)
            return value, text, label, mine
        if isinstance(node, ast.Call):
            func = node.func.id
            parts = [self.walk(arg) for arg in node.args[: 1 if func == "round" else None]]
            name = FUNCTIONS[func]
            if func == "round":
                digits = node.args[1].value if len(node.args) == 2 else 0
                (value, text, label, _) = parts[0]
                value = _round_half_up(value, digits)
                suffix = f"，保留 {digits} 位小数" if digits else "到整数"
                return value, pl.lit(f"{name}(") + text + pl.lit(f"{suffix})"), f"{name}({label}{suffix})", 3
            values = [p[0] for p in parts]
            value = pl.min_horizontal(values) if func == "min" else pl.max_horizontal(values)
            # min/max of Polars skip nulls; a missing input must make the result unknown, as in + − × ÷.
            value = pl.when(pl.any_horizontal([v.is_null() for v in values])).then(None).otherwise(value)
            text = pl.lit(f"{name}(") + pl.concat_str([p[1] for p in parts], separator="，") + pl.lit(")")
            label = f"{name}(" + "，".join(p[2] for p in parts) + ")"
            return value, text, label, 3
        raise FormulaError([f"不支持“{ast.unparse(node)}”"])  # parse() has refused it already

    @staticmethod
    def _wrap(part, mine: int, *, right_side: bool, op) -> tuple[pl.Expr, pl.Expr, str]:
        value, text, label, precedence = part
        # a − (b − c), a ÷ (b × c): the right side of − and ÷ keeps brackets at equal precedence.
        needs = precedence < mine or (right_side and precedence == mine and op in (ast.Sub, ast.Div))
        if needs:
            return value, pl.lit("(") + text + pl.lit(")"), f"({label})"
        return value, text, label


def _constant_text(value: float | int) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _round_half_up(value: pl.Expr, digits: int) -> pl.Expr:
    """Rounded half away from zero (money is never negative here: half up), after removing float noise
    (0.1 × 3 = 0.30000000000000004) at 6 decimals."""
    return value.round(6).round(digits, mode="half_away_from_zero")


round_half_up = _round_half_up
