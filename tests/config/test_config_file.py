"""The TOML configuration: export from WizardState, load, and errors that name the key and line."""

from __future__ import annotations

import pytest

from services.config_file import ConfigError, dumps, export, load, loads
from services.state import WizardState


def sample_state() -> WizardState:
    return WizardState(
        region="eu-north-1",
        account="123456789012",
        bucket="sagemaker-eu-north-1-123456789012",
        role_arn="arn:aws:iam::123456789012:role/service-role/SageMaker-tt",
        notebook_name="sagewiz-nb",
        data_prefix="s3://sagemaker-eu-north-1-123456789012/ground-truth-demo/images/",
        labels=["Airplane", "Car", "Ferry"],
        training_job="xgb-1",
        tuning_job="tune-1",
        extra={
            "training": {
                "algorithm": "xgboost",
                "instance_type": "ml.m5.large",
                "hyperparameters": {"eta": 0.2},
            },
            "tuning": {
                "strategy": "Bayesian",
                "max_jobs": 4,
                "max_parallel_jobs": 2,
                "warm_start": {"parents": ["tune-0"], "type": "TransferLearning"},
            },
            "data": {"source": "s3://sagemaker-sample-files/datasets/image/caltech-101/inference/"},
            "misc": {"dropped": None, "kept": (1, 2)},
        },
    )


def test_round_trip_keeps_every_choice(tmp_path):
    state = sample_state()
    path = export(state, tmp_path / "wiz.toml").path
    text = path.read_text()
    assert text.startswith("# sagewiz configuration")
    assert "secret" not in text.lower()
    back = load(path).to_state()
    for attr in (
        "region",
        "account",
        "bucket",
        "role_arn",
        "notebook_name",
        "data_prefix",
        "labels",
        "training_job",
        "tuning_job",
    ):
        assert getattr(back, attr) == getattr(state, attr), attr
    assert back.extra["training"] == state.extra["training"]
    assert back.extra["tuning"] == state.extra["tuning"]
    assert back.extra["data"] == state.extra["data"]
    assert back.extra["misc"] == {"kept": [1, 2]}  # TOML has no null; tuples become lists


def test_an_empty_state_exports_a_loadable_file():
    cfg = loads(dumps(WizardState()))
    assert cfg.region == "" and cfg.state == {
        "labels": ["Airplane", "Car", "Ferry", "Helicopter", "Motorbike"]
    }


@pytest.mark.parametrize(
    ("text", "key", "line", "words"),
    [
        ('version = 1\nregion = "EU North"\n', "region", 2, "lower case"),
        ('[bucket]\n# the bucket\nname = "My_Bucket"\n', "bucket.name", 3, "lower case"),
        ('[role]\narn = "SageMaker-tt"\n', "role.arn", 2, "not a role ARN"),
        ('[data]\nprefix = "bucket/images/"\n', "data.prefix", 2, "s3://"),
        ('[labels]\ncategories = ["Car"]\n', "labels.categories", 2, "two labels"),
        ('[labels]\ncategories = "Car"\n', "labels.categories", 2, "list of strings"),
        ('[training]\njob = "bad_name!"\n', "training.job", 2, "not a valid SageMaker name"),
        (
            '[training]\nalgorithm = "xgboost"\n\n[training.hyperparameters]\neta = 7\n',
            "training.hyperparameters.eta",
            5,
            "eta",
        ),
        ("[tuning]\nmax_jobs = 0\n", "tuning.max_jobs", 2, "from 1 to"),
        (
            '[training]\njob = "j"\ninstance_count = 9223372036854775808\n',
            "training.instance_count",
            3,
            "from 1 to 100",
        ),
        ('[training]\nalgorithm = "rm -rf"\n', "training.algorithm", 2, "not an algorithm"),
        ('[bucket]\nnmae = "b"\n', "bucket.nmae", 2, "did you mean name?"),
        (
            "[training]\n[training.hyperparameters]\nnum_round = 5\n[training.channels]\ntrain = 5\n",
            "training.channels.train",
            5,
            "a string",
        ),
        (
            '[tuning.ranges.eta]\nkind = "continuous"\nmni = 0\n',
            "tuning.ranges.eta.mni",
            3,
            "did you mean min?",
        ),
        (
            '[training]\njob = "t"\n[tuning]\nstrategy = "Banana"\n',
            "tuning.strategy",
            4,
            "not one of Bayesian",
        ),
        ('[training]\njob = "t"\n[tuning]\nobjective = 5\n', "tuning.objective", 4, "a string"),
        (
            '[training]\njob = "t"\n[tuning.warm_start]\ntype = "Cold"\n',
            "tuning.warm_start.type",
            4,
            "not one of IdenticalDataAndAlgorithm",
        ),
        ('[tuning]\nstrategy = "Random"\n', "tuning", 1, "starts from a training job"),
        (
            '[training]\njob = "t"\n[tuning.ranges.eta]\nkind = "continuous"\nmin = "low"\nmax = 1\n',
            "tuning.ranges.eta",
            3,
            "tuning.ranges.eta",
        ),
        (
            '[training]\njob = "t"\n[tuning.ranges.etaa]\nkind = "continuous"\n',
            "tuning.ranges.etaa",
            3,
            "did you mean eta?",
        ),
        ("[notebook]\nvolume_gb = 1\n", "notebook.volume_gb", 2, "from 5 to"),
        (
            '[training]\ninstance_type = "ml.m5.hugе"\n',
            "training.instance_type",
            2,
            "did you mean ml.m5.large?",
        ),
        ('[labels]\nworkforce = "crowd"\n', "labels.workforce", 2, "public, private"),
        ('[labels]\nfree_of_pii = "yes"\n', "labels.free_of_pii", 2, "true or false"),
        ('regoin = "eu-north-1"\n', "regoin", 1, "unknown key"),
        ("version = 2\n", "version", 1, "not supported"),
        ('account = "12345"\n', "account", 1, "12-digit"),
        ("bucket = 3\n", "bucket", 1, "must be a table"),
    ],
)
def test_bad_values_name_the_key_and_line(text, key, line, words):
    with pytest.raises(ConfigError) as info:
        loads(text, "wiz.toml")
    err = info.value
    assert err.key == key
    assert err.line == line
    assert f"wiz.toml, line {line}" in err.message
    assert words.lower() in (err.message + err.hint).lower()


def test_invalid_toml_names_the_line():
    with pytest.raises(ConfigError) as info:
        loads('region = "eu-north-1"\n[bucket\nname = "x"\n', "wiz.toml")
    assert info.value.line == 2 and "not valid TOML" in info.value.message


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "nope.toml")
    bad = tmp_path / "bin.toml"
    bad.write_bytes(b'region = "eu-north-1"\n\xff\xfe')
    with pytest.raises(ConfigError) as info:
        load(bad)
    assert info.value.line == 2
