"""The wizard's steps, once, for every face: the screens, `--plain` and `sagewiz apply`.

Each step module holds the step's choices, its defaults, what it reads from AWS (`inspect`), what
it would send (`plan`, a `StepPlan` whose verdict says "send these requests", "nothing to do",
"skipped" or "cannot, because") and how it applies and records the result (`apply`). The faces only
gather choices, render the plan, confirm and call `apply`; `walk` runs a step headless for
`--plain` and `apply`.

    context      FlowContext: the connection, account, region, journal and sandbox world
    outcome      Verdict, StepPlan, StepOutcome and the run's summary line
    bucket       the S3 bucket (exists and belongs to the account, or create it)
    role         the SageMaker execution role (assumable, or create a least-privilege one)
    notebook     the notebook instance
    data         the images copied into the bucket (ExpectedBucketOwner on every call)
    permissions  the role's and bucket's policies: the next fix to apply
    labels       the Ground Truth labeling job
    train        the training job
    tune         the hyperparameter tuning job
    connect      who, where, whether the sandbox (no plan: connecting changes nothing)
    doctor       why a request is refused, and the recommended fix's requests
    cleanup      what sagewiz created, and the requests that stop or delete the chosen part
    walk         one step headless: plan, show, confirm, apply, record
    marks        when each step is done (✓), needs attention (!) or not started (○)
"""
