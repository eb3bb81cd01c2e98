"""Reads an Airflow DAG file written by `parcours dag export` with ast, without
importing Airflow, and prints what it declares as one JSON object:

  dag        the DAG(...) keywords, constants resolved
  tasks      task_id -> operator class, mapped or not, keywords (a **NAME
             splat of a module-level dict is merged in), expanded keywords
  edges      [upstream, downstream] task ids, from `a >> b` statements
  classes    operator subclasses: bases, methods, exceptions raised, names
             compared with
  imports    every module imported, with the names taken from it

Values that are not literals (a function call, an expression) come out as
{"expr": "<source>"}; a call of a module-level function on literal arguments
also gives {"call": name, "args": [...]}, so the test can tell which helper
builds each command.

Usage: python3 dag_graph.py FILE
"""

import ast
import json
import sys


def main(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    consts = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            consts[node.targets[0].id] = resolve(node.value, consts)
    out = {"dag": None, "tasks": {}, "edges": [], "classes": {}, "imports": imports(tree)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out["classes"][node.name] = describe_class(node)
        if isinstance(node, ast.With):
            dag_call = node.items[0].context_expr
            if isinstance(dag_call, ast.Call) and name_of(dag_call.func) == "DAG":
                out["dag"] = keywords(dag_call, consts)
                read_dag_body(node.body, consts, out)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


def read_dag_body(body, consts, out):
    var_task = {}
    for stmt in body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            task = describe_task(stmt.value, consts)
            if task is None:
                continue
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    var_task[target.id] = task["task_id"]
            if task["task_id"] in out["tasks"]:
                raise SystemExit("task %r defined twice" % task["task_id"])
            out["tasks"][task["task_id"]] = task
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.BinOp):
            for up, down in rshift_edges(stmt.value):
                for u in up:
                    for d in down:
                        out["edges"].append([task_of(var_task, u), task_of(var_task, d)])


def task_of(var_task, var):
    if var not in var_task:
        raise SystemExit("edge names %r, which is no task" % var)
    return var_task[var]


def rshift_edges(node):
    """The (upstream vars, downstream vars) pairs of a >> chain, left to right."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift)):
        return []
    pairs = rshift_edges(node.left)
    left = node.left.right if isinstance(node.left, ast.BinOp) else node.left
    pairs.append((operand_vars(left), operand_vars(node.right)))
    return pairs


def operand_vars(node):
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [e.id for e in node.elts]
    raise SystemExit("unexpected >> operand: " + ast.unparse(node))


def describe_task(call, consts):
    """A task definition: Op(task_id=...) or Op.partial(task_id=...).expand(...)."""
    mapped = None
    if isinstance(call.func, ast.Attribute) and call.func.attr == "expand":
        partial = call.func.value
        if not (isinstance(partial, ast.Call) and isinstance(partial.func, ast.Attribute) and partial.func.attr == "partial"):
            return None
        mapped = keywords(call, consts)
        operator = name_of(partial.func.value)
        kw = keywords(partial, consts)
    else:
        operator = name_of(call.func)
        kw = keywords(call, consts)
    if "task_id" not in kw:
        return None
    return {"task_id": kw["task_id"], "operator": operator, "mapped": mapped is not None,
            "keywords": kw, "expand": mapped or {}}


def keywords(call, consts):
    out = {}
    for k in call.keywords:
        if k.arg is None:  # **NAME
            splat = resolve(k.value, consts)
            if not isinstance(splat, dict) or "expr" in splat:
                raise SystemExit("cannot resolve **" + ast.unparse(k.value))
            out.setdefault("**", []).append(ast.unparse(k.value))
            for key, value in splat.items():
                if key in out:
                    raise SystemExit("keyword %r given twice" % key)
                out[key] = value
        else:
            if k.arg in out:
                raise SystemExit("keyword %r given twice" % k.arg)
            out[k.arg] = resolve(k.value, consts)
    return out


def resolve(node, consts):
    """A literal value, with module constants substituted where they are named."""
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError):
        pass
    if isinstance(node, ast.Name) and node.id in consts:
        return consts[node.id]
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        return {resolve(k, consts): resolve(v, consts) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.List):
        return [resolve(e, consts) for e in node.elts]
    out = {"expr": ast.unparse(node)}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [resolve(a, consts) for a in node.args]
        if all(not isinstance(a, dict) for a in args):
            out["call"] = node.func.id
            out["args"] = args
    return out


def describe_class(node):
    raises, compares, methods = set(), set(), []
    for item in node.body:
        if isinstance(item, ast.FunctionDef):
            methods.append(item.name)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Raise) and sub.exc is not None:
            exc = sub.exc.func if isinstance(sub.exc, ast.Call) else sub.exc
            raises.add(name_of(exc))
        if isinstance(sub, ast.Compare):
            for operand in [sub.left, *sub.comparators]:
                if isinstance(operand, ast.Name):
                    compares.add(operand.id)
    return {"bases": [ast.unparse(b) for b in node.bases], "methods": methods,
            "raises": sorted(raises), "compares": sorted(compares)}


def imports(tree):
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out.append({"module": node.module, "names": [a.name for a in node.names]})
        elif isinstance(node, ast.Import):
            for a in node.names:
                out.append({"module": a.name, "names": []})
    return out


def name_of(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return name_of(node.value) + "." + node.attr
    return ast.unparse(node)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: dag_graph.py FILE")
    main(sys.argv[1])
