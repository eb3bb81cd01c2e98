"""Loads an Airflow DAG file written by `parcours dag export` against stand-ins
for the Airflow modules it imports (Airflow is not installed where the tests
run), and prints what it does as one JSON object:

  dag         the DAG's keywords (timetable and dates as text)
  tasks       task_id -> operator class, mapped or not, its trigger rule, and its
              commands with {{ ds }} rendered: one per task, or one per shard when mapped
  edges       [upstream, downstream] task ids, as `>>` recorded them
  exit_codes  what a task does when parcours exits with each code:
              success, skipped, retry (an error Airflow retries) or failed
              (AirflowFailException: no retry)

The stand-ins copy the few behaviours the file relies on, from Airflow's own
code: BashOperator.execute (providers/standard operators/bash.py: run the
command through SubprocessHook, skip on skip_on_exit_code, else raise
AirflowException on a non-zero exit) and KubernetesPodOperator.cleanup
(providers/cncf/kubernetes operators/pod.py, 7.5.0 and later: read the base
container's state.terminated.exit_code, skip on skip_on_exit_code, else raise
AirflowException for a pod that did not succeed). They also check every
keyword against the operator's parameters, as Airflow does.

--airflow 2 offers the Airflow 2 module layout (airflow.operators.bash,
airflow.exceptions, airflow.timetables); --airflow 3 only the Airflow 3 one
(airflow.sdk, airflow.sdk.exceptions, airflow.providers.standard), so a file
that imports from the wrong place fails to load.

Usage: python3 dag_behaviour.py FILE --airflow 2|3 --ds YYYY-MM-DD
"""

import argparse
import importlib.util
import inspect
import json
import sys
import types


class AirflowException(Exception):
    pass


class AirflowSkipException(AirflowException):
    pass


class AirflowFailException(AirflowException):
    pass


class AirflowTaskTimeout(AirflowException):
    """As in Airflow 2. Airflow 3 makes it a BaseException, which the operators'
    `except AirflowException` never sees: a timeout is retried either way."""


class DAG:
    current = None

    def __init__(self, dag_id, *, description=None, schedule=None, start_date=None, catchup=True,
                 max_active_runs=16, max_active_tasks=16, tags=None, default_args=None):
        self.dag_id = dag_id
        self.settings = {"dag_id": dag_id, "description": description, "schedule": repr(schedule),
                         "start_date": repr(start_date), "catchup": catchup,
                         "max_active_runs": max_active_runs, "max_active_tasks": max_active_tasks,
                         "tags": tags}
        self.tasks = {}
        self.edges = []

    def __enter__(self):
        DAG.current = self
        return self

    def __exit__(self, *exc):
        DAG.current = None
        return False

    def add(self, task):
        if task.task_id in self.tasks:
            raise ValueError("duplicate task id " + task.task_id)
        self.tasks[task.task_id] = task


class Dependable:
    def __rshift__(self, other):
        for o in other if isinstance(other, list) else [other]:
            DAG.current.edges.append([self.task_id, o.task_id])
        return other

    def __rrshift__(self, other):
        for o in other:
            DAG.current.edges.append([o.task_id, self.task_id])
        return self


def parameters(cls):
    """Every keyword the operator's __init__ chain accepts, as Airflow's
    validate_mapping_kwargs and BaseOperator collect them."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self":
                names.add(p.name)
    return names


class BaseOperator(Dependable):
    # airflow.utils.trigger_rule.TriggerRule
    TRIGGER_RULES = {"all_success", "all_failed", "all_done", "all_done_setup_success", "one_success",
                     "one_failed", "one_done", "none_failed", "none_skipped", "none_failed_min_one_success",
                     "all_skipped", "always", "all_done_min_one_success"}

    def __init__(self, *, task_id, doc=None, retries=0, retry_delay=None, execution_timeout=None,
                 do_xcom_push=True, trigger_rule="all_success", queue="default", **kwargs):
        if kwargs:
            raise TypeError("Invalid arguments were passed to %s (task_id: %s): %s"
                            % (type(self).__name__, task_id, sorted(kwargs)))
        if trigger_rule not in self.TRIGGER_RULES:
            raise ValueError("The trigger_rule must be one of %s, '%s' was passed" % (sorted(self.TRIGGER_RULES), trigger_rule))
        self.trigger_rule = trigger_rule
        self.queue = queue  # BaseOperator's Celery queue (conf celery.default_queue)
        self.task_id = task_id
        self.doc = doc
        self.retries = retries
        self.do_xcom_push = do_xcom_push
        if DAG.current is not None:
            DAG.current.add(self)

    @classmethod
    def partial(cls, **kwargs):
        return Partial(cls, kwargs)


class Partial:
    def __init__(self, cls, kwargs):
        self.cls, self.kwargs = cls, kwargs

    def expand(self, **mapped):
        unknown = (set(self.kwargs) | set(mapped)) - parameters(self.cls)
        if unknown:
            raise TypeError("%s.partial() got unexpected keywords %s" % (self.cls.__name__, sorted(unknown)))
        lengths = {len(v) for v in mapped.values()}
        if len(lengths) != 1:
            raise ValueError("expand() over lists of different lengths")
        return Mapped(self.cls, self.kwargs, mapped)


class Mapped(Dependable):
    def __init__(self, cls, partial_kwargs, mapped):
        self.cls, self.partial_kwargs, self.mapped = cls, partial_kwargs, mapped
        self.task_id = partial_kwargs["task_id"]
        DAG.current.add(self)

    def unmap(self, index):
        """The operator of one map index, built as Airflow builds it when the task runs."""
        kwargs = dict(self.partial_kwargs)
        kwargs.update({k: v[index] for k, v in self.mapped.items()})
        saved, DAG.current = DAG.current, None
        try:
            return self.cls(**kwargs)
        finally:
            DAG.current = saved


class SubprocessHook:
    def __init__(self):
        self.sub_process = None


class BashOperator(BaseOperator):
    def __init__(self, *, bash_command, env=None, append_env=False, output_encoding="utf-8",
                 skip_on_exit_code=99, cwd=None, **kwargs):
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.skip_on_exit_code = (skip_on_exit_code if isinstance(skip_on_exit_code, (list, tuple, set))
                                  else [skip_on_exit_code] if skip_on_exit_code is not None else [])
        self._hook = None
        self.simulate = None  # the exit code the command "returns", or "timeout"

    @property
    def subprocess_hook(self):
        if self._hook is None:
            self._hook = SubprocessHook()
        return self._hook

    def execute(self, context):
        if self.simulate == "timeout":  # execution_timeout fires while the command runs
            self.subprocess_hook.sub_process = types.SimpleNamespace(returncode=None)
            raise AirflowTaskTimeout("Timeout, PID: 1")
        self.subprocess_hook.sub_process = types.SimpleNamespace(returncode=self.simulate)
        code = self.subprocess_hook.sub_process.returncode
        if code in self.skip_on_exit_code:
            raise AirflowSkipException("Bash command returned exit code %d. Skipping." % code)
        if code != 0:
            raise AirflowException("Bash command failed. The command returned a non-zero exit code %d." % code)
        return "last line"


class KubernetesPodOperator(BaseOperator):
    BASE_CONTAINER_NAME = "base"

    def __init__(self, *, namespace=None, image=None, name=None, cmds=None, arguments=None, env_vars=None,
                 volumes=None, volume_mounts=None, container_resources=None, skip_on_exit_code=None,
                 get_logs=True, startup_timeout_seconds=120, deferrable=False, base_container_name=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.name = name
        self.cmds = cmds
        self.arguments = arguments
        self.env_vars = env_vars
        self.volumes = volumes
        self.volume_mounts = volume_mounts
        self.base_container_name = base_container_name or self.BASE_CONTAINER_NAME
        self.skip_on_exit_code = (skip_on_exit_code if isinstance(skip_on_exit_code, (list, tuple, set))
                                  else [skip_on_exit_code] if skip_on_exit_code is not None else [])

    def cleanup(self, pod, remote_pod, xcom_result=None, context=None):
        if not remote_pod:
            return
        failed = remote_pod.status.phase != "Succeeded"
        if self.skip_on_exit_code:
            statuses = remote_pod.status.container_statuses or []
            base = next((s for s in statuses if s.name == self.base_container_name), None)
            code = base.state.terminated.exit_code if base and base.state and base.state.terminated else None
            if code in self.skip_on_exit_code:
                raise AirflowSkipException("Pod returned exit code %s. Skipping." % code)
        if failed:
            raise AirflowException("Pod %s returned a failure." % pod.metadata.name)


def remote_pod(exit_code):
    """A finished pod whose base container exited with exit_code (None: it never ran)."""
    n = types.SimpleNamespace
    if exit_code is None:
        base = n(name="base", state=n(terminated=None, waiting=n(reason="ImagePullBackOff"), running=None))
        phase = "Pending"
    else:
        base = n(name="base", state=n(terminated=n(exit_code=exit_code), waiting=None, running=None))
        phase = "Succeeded" if exit_code == 0 else "Failed"
    sidecar = n(name="airflow-xcom-sidecar", state=n(terminated=None, waiting=None, running=n()))
    return n(metadata=n(name="parcours-x-abc"), status=n(phase=phase, container_statuses=[sidecar, base]))


class K8sModel:
    """Any kubernetes.client model: keeps its keywords."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def k8s_models():
    mod = types.ModuleType("kubernetes.client.models")

    def getattr_(name):
        if name.startswith("V1"):
            return type(name, (K8sModel,), {})
        raise AttributeError(name)

    mod.__getattr__ = getattr_
    return mod


class Timetable:
    def __init__(self, cron, timezone):
        self.cron, self.timezone = cron, timezone

    def __repr__(self):
        return "CronDataIntervalTimetable(%r, timezone=%r)" % (self.cron, self.timezone)


def install(layout):
    """Registers the stand-in modules of one Airflow layout in sys.modules."""
    mods = {}

    def module(path, **attrs):
        parts = path.split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            if name not in mods:
                mods[name] = types.ModuleType(name)
                mods[name].__path__ = []
                if i > 1:
                    setattr(mods[".".join(parts[:i - 1])], parts[i - 1], mods[name])
        for k, v in attrs.items():
            setattr(mods[path], k, v)

    exceptions = dict(AirflowException=AirflowException, AirflowSkipException=AirflowSkipException,
                      AirflowFailException=AirflowFailException, AirflowTaskTimeout=AirflowTaskTimeout)
    if layout == "2":
        module("airflow", DAG=DAG)
        module("airflow.exceptions", **exceptions)
        module("airflow.operators.bash", BashOperator=BashOperator)
        module("airflow.timetables.interval", CronDataIntervalTimetable=Timetable)
    else:
        module("airflow")
        module("airflow.sdk", DAG=DAG, CronDataIntervalTimetable=Timetable)
        module("airflow.sdk.exceptions", **exceptions)
        module("airflow.providers.standard.operators.bash", BashOperator=BashOperator)
    module("airflow.providers.cncf.kubernetes.operators.pod", KubernetesPodOperator=KubernetesPodOperator)
    module("kubernetes.client")
    mods["kubernetes.client.models"] = k8s_models()
    mods["kubernetes.client"].models = mods["kubernetes.client.models"]
    module("pendulum", timezone=lambda name: "tz:" + name,
           datetime=lambda *a, tz=None: "datetime%r in %s" % (a, tz))
    sys.modules.update(mods)


def render(value, ds):
    if isinstance(value, str):
        return value.replace("{{ ds }}", ds)
    if isinstance(value, list):
        return [render(v, ds) for v in value]
    return value


def command_of(op):
    return op.bash_command if isinstance(op, BashOperator) else [*op.cmds, *op.arguments]


def outcome(run):
    try:
        run()
    except AirflowFailException:
        return "failed"
    except AirflowSkipException:
        return "skipped"
    except AirflowException:
        return "retry"
    return "success"


def exit_codes(op):
    """What the task does for each exit code of parcours (None: no exit code)."""
    out = {}
    for code in [0, 1, 2, 75, 99, 137, None]:
        key = "none" if code is None else str(code)
        if isinstance(op, BashOperator):
            op.simulate = "timeout" if code is None else code
            op._hook = None
            out[key] = outcome(lambda: op.execute({}))
        else:
            pod = remote_pod(code)
            positional = outcome(lambda: op.cleanup(pod, pod, None, {}))
            # providers before 7.x called cleanup(pod=..., remote_pod=...)
            by_keyword = outcome(lambda: op.cleanup(pod=pod, remote_pod=pod))
            out[key] = positional if positional == by_keyword else "inconsistent"
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--airflow", choices=["2", "3"], required=True)
    ap.add_argument("--ds", required=True)
    args = ap.parse_args()
    install(args.airflow)
    spec = importlib.util.spec_from_file_location("parcours_dag", args.file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dags = [v for v in vars(module).values() if isinstance(v, DAG)]
    if len(dags) != 1:
        raise SystemExit("want one DAG, found %d" % len(dags))
    dag = dags[0]
    out = {"dag": dag.settings, "tasks": {}, "edges": dag.edges, "exit_codes": {}}
    for task_id, task in dag.tasks.items():
        if isinstance(task, Mapped):
            n = len(next(iter(task.mapped.values())))
            ops = [task.unmap(i) for i in range(n)]
        else:
            ops = [task]
        out["tasks"][task_id] = {
            "operator": type(ops[0]).__name__,
            "mapped": isinstance(task, Mapped),
            "trigger_rule": ops[0].trigger_rule,
            "commands": [render(command_of(op), args.ds) for op in ops],
        }
        out["exit_codes"][task_id] = exit_codes(ops[0])
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
