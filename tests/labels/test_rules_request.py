"""Label rules, names, Lambdas, prices and the CreateLabelingJob request against the botocore model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.errors import ValidationError
from services.labeling import rules
from services.labeling.request import PRIVATE, PUBLIC, JobSpec, Workforce, build_request, check_spec
from services.model_check import check_request

ROLE = "arn:aws:iam::123456789012:role/service-role/SageMaker-tt"
MTURK = Workforce(PUBLIC, 36, free_of_pii=True, free_of_adult_content=True, acknowledged=True)


def spec(**kw) -> JobSpec:
    base = JobSpec(region="us-east-1", role_arn=ROLE, workforce=MTURK, manifest_uri="s3://b/gt/in.manifest",
                   categories_uri="s3://b/gt/cat.json", template_uri="s3://b/gt/t.html", output_path="s3://b/gt/output")  # fmt: skip
    return replace(base, **kw)


def test_request_validates_against_the_botocore_model() -> None:
    req = build_request(spec())
    assert check_request("CreateLabelingJob", req) == []
    hc = req["HumanTaskConfig"]
    assert hc["PreHumanTaskLambdaArn"] == "arn:aws:lambda:us-east-1:432418664414:function:PRE-ImageMultiClass"
    assert hc["AnnotationConsolidationConfig"]["AnnotationConsolidationLambdaArn"].endswith(
        ":function:ACS-ImageMultiClass"
    )
    assert hc["WorkteamArn"] == "arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default"
    assert hc["PublicWorkforceTaskPrice"] == {
        "AmountInUsd": {"Dollars": 0, "Cents": 3, "TenthFractionsOfACent": 6}
    }
    assert req["InputConfig"]["DataAttributes"]["ContentClassifiers"] == [
        "FreeOfPersonallyIdentifiableInformation", "FreeOfAdultContent"]  # fmt: skip
    assert {"Key": "sagewiz:created-by", "Value": "sagewiz"} in req["Tags"]
    # botocore's own client-side validation agrees
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("sagemaker")
    report = ParamValidator().validate(req, model.operation_model("CreateLabelingJob").input_shape)
    assert not report.has_errors(), report.generate_report()


def test_multi_label_uses_the_multilabel_lambdas() -> None:
    req = build_request(spec(task_type=rules.MULTI))
    assert req["HumanTaskConfig"]["PreHumanTaskLambdaArn"].endswith("PRE-ImageMultiClassMultiLabel")


def test_model_check_reports_patterns_lengths_and_missing_members() -> None:
    req = build_request(spec())
    req["LabelingJobName"] = "bad_name!"
    req["HumanTaskConfig"]["TaskDescription"] = "x" * 256
    req["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"] = 10
    del req["RoleArn"]
    msgs = [p.message for p in check_request("CreateLabelingJob", req)]
    assert any("'labelingJobName'" in m and "regular expression pattern" in m for m in msgs)
    assert any(
        "humanTaskConfig.taskDescription" in m and "length less than or equal to 255" in m for m in msgs
    )
    assert any(
        "numberOfHumanWorkersPerDataObject" in m and "value less than or equal to 9" in m for m in msgs
    )
    assert any("Value null at 'roleArn'" in m for m in msgs)


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        (["Car", "Car"], "appears twice"),
        (["Car"], "at least two labels"),
        ([], "at least two labels"),
        (["Car", ""], "empty"),
        (["Car", "x" * 257], "limit is 256"),
    ],
)
def test_bad_labels_are_refused_with_the_rule(labels: list[str], fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        rules.check_labels(labels)
    assert fragment in err.value.message


def test_many_labels_warn_about_the_console_limit_and_multi_label_caps_at_50() -> None:
    many = [f"L{i}" for i in range(31)]
    assert "console allows only 30" in rules.check_labels(many).warnings[0]
    assert rules.check_labels(many[:30]).warnings == ()
    with pytest.raises(ValidationError):
        rules.check_labels([f"L{i}" for i in range(51)], rules.MULTI)


def test_over_long_description_is_refused_before_any_call() -> None:
    with pytest.raises(ValidationError) as err:
        build_request(spec(description="d" * 256))
    assert "256 characters; the limit is 255" in err.value.message


@pytest.mark.parametrize("name", ["bad_name", "-start", "end-", "a" * 64, "has space", ""])
def test_job_name_pattern(name: str) -> None:
    with pytest.raises(ValidationError):
        rules.check_job_name(name)


def test_job_and_attribute_names_accepted() -> None:
    assert rules.check_job_name("vehicle--labels-2") == "vehicle--labels-2"
    assert rules.check_attribute_name("vehicle") == "vehicle"
    for bad in ("vehicle-metadata", "vehicle-ref", "veh_icle"):
        with pytest.raises(ValidationError):
            rules.check_attribute_name(bad)


def test_unsupported_region_says_so_and_takes_user_lambdas() -> None:
    assert rules.documented_lambdas("eu-north-1") is None
    with pytest.raises(ValidationError) as err:
        build_request(spec(region="eu-north-1"))
    assert "lists no pre-annotation or consolidation Lambda for eu-north-1" in err.value.message
    good = rules.TaskLambdas("arn:aws:lambda:eu-north-1:111122223333:function:PRE-ImageMultiClass",
                             "arn:aws:lambda:eu-north-1:111122223333:function:ACS-ImageMultiClass", False)  # fmt: skip
    req = build_request(spec(region="eu-north-1", lambdas=good))
    assert req["HumanTaskConfig"]["PreHumanTaskLambdaArn"] == good.pre
    wrong_region = replace(good, pre="arn:aws:lambda:us-east-1:111122223333:function:PRE-ImageMultiClass")
    with pytest.raises(ValidationError) as err:
        build_request(spec(region="eu-north-1", lambdas=wrong_region))
    assert "us-east-1 but the job runs in eu-north-1" in err.value.message
    with pytest.raises(ValidationError):
        build_request(spec(region="eu-north-1", lambdas=replace(good, consolidation="not-an-arn")))


def test_prices_are_the_documented_list_in_integer_arithmetic() -> None:
    assert rules.price_to_amount(12) == {"Dollars": 0, "Cents": 1, "TenthFractionsOfACent": 2}
    assert rules.price_to_amount(1200) == {"Dollars": 1, "Cents": 20, "TenthFractionsOfACent": 0}
    assert all(rules.amount_to_mills(rules.price_to_amount(m)) == m for m in rules.PRICE_MILLS)
    with pytest.raises(ValidationError):
        rules.price_to_amount(13)
    est = rules.CostEstimate(50, 3, 36)
    assert est.workforce_usd == pytest.approx(5.40)


def test_mechanical_turk_needs_declarations_and_acknowledgement() -> None:
    with pytest.raises(ValidationError) as err:
        check_spec(spec(workforce=replace(MTURK, free_of_pii=False)))
    assert "personally identifiable" in err.value.message
    with pytest.raises(ValidationError):
        check_spec(spec(workforce=replace(MTURK, acknowledged=False)))


def test_private_team_needs_a_team_of_the_region() -> None:
    with pytest.raises(ValidationError):
        check_spec(spec(workforce=Workforce(PRIVATE)))
    team = "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/mine"
    req = build_request(spec(workforce=Workforce(PRIVATE, team_arn=team)))
    assert req["HumanTaskConfig"]["WorkteamArn"] == team
    assert "PublicWorkforceTaskPrice" not in req["HumanTaskConfig"]
    with pytest.raises(ValidationError):
        check_spec(spec(workforce=Workforce(PRIVATE, team_arn=team.replace("us-east-1", "eu-west-1"))))
