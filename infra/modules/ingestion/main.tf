# The arrival gate: a Lambda function receiving the raw bucket's S3 "Object Created" events
# through EventBridge (the storage module turns S3 -> EventBridge on). Once every file a
# pipeline's crawler node expects for an ingest_date is in, it starts that date's run, once, on
# the active orchestrator (lambdas/arrival_gate/arrival_gate.py). The cron schedules stay as the
# fallback. The package is the handler plus the manifest `dwh compile` generates beside it.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.region
  function_name = "${var.name_prefix}-arrival-gate"
  # Where the gate writes its one marker per pipeline and date (arrival_gate.MARKER_PREFIX).
  marker_prefix = "_arrivals"
  # arn:...:airflow:<region>:<account>:role/<environment>/<Airflow role>: the rbac-role
  # resource InvokeRestApi is authorised on.
  mwaa_role_arn = var.mwaa_environment_name == null ? null : "arn:${local.partition}:airflow:${local.region}:${local.account_id}:role/${var.mwaa_environment_name}/${var.mwaa_airflow_role}"
}

data "archive_file" "gate" {
  type        = "zip"
  output_path = "${path.root}/.terraform/arrival-gate.zip"
  source {
    content  = file("${var.gate_source_dir}/arrival_gate.py")
    filename = "arrival_gate.py"
  }
  source {
    content  = file("${var.gate_source_dir}/manifest.json")
    filename = "manifest.json"
  }
}

# --- the function's role ---

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "gate" {
  name               = local.function_name
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "gate" {
  statement {
    sid       = "SeeWhichRawFilesArrived"
    actions   = ["s3:ListBucket"]
    resources = [var.raw_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["*/ingest_date=*"]
    }
  }

  statement {
    sid       = "WriteAndRemoveArrivalMarkers"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.raw_bucket_arn}/${local.marker_prefix}/*"]
  }

  statement {
    sid       = "EncryptMarkersAndReadEnvironment"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "lambda.${local.region}.amazonaws.com", "sqs.${local.region}.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = var.orchestrator == "stepfunctions" ? [1] : []
    content {
      sid       = "StartPipelineExecutions"
      actions   = ["states:StartExecution"]
      resources = values(var.state_machine_arns)
    }
  }

  # The execution input is encrypted with the state machines' key (their encryption context).
  dynamic "statement" {
    for_each = var.orchestrator == "stepfunctions" ? [1] : []
    content {
      sid       = "EncryptExecutionInput"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.kms_key_arn]
      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:aws:states:stateMachineArn"
        values   = values(var.state_machine_arns)
      }
    }
  }

  dynamic "statement" {
    for_each = var.orchestrator == "airflow" ? [1] : []
    content {
      sid       = "TriggerDagRuns"
      actions   = ["airflow:InvokeRestApi"]
      resources = [local.mwaa_role_arn]
    }
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.gate.arn}:*"]
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }

  statement {
    sid     = "SendTraces"
    actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    # no resource-level permissions: X-Ray trace ingestion accepts only "*".
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "gate" {
  name   = "arrival-gate"
  role   = aws_iam_role.gate.id
  policy = data.aws_iam_policy_document.gate.json
}

# --- the function ---

resource "aws_cloudwatch_log_group" "gate" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_sqs_queue" "dead_letters" {
  name                      = "${local.function_name}-dlq"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600 # 14 days: time to look at a failed date and land again
}

resource "aws_lambda_function" "gate" {
  #checkov:skip=CKV_AWS_117:calls only S3, Step Functions and MWAA public APIs; no VPC resource to reach
  #checkov:skip=CKV_AWS_272:the package is built by Terraform from the repository (archive_file); no signing profile
  function_name    = local.function_name
  role             = aws_iam_role.gate.arn
  runtime          = "python3.12"
  handler          = "arrival_gate.handler"
  filename         = data.archive_file.gate.output_path
  source_code_hash = data.archive_file.gate.output_base64sha256
  timeout          = 60
  memory_size      = 128
  # One event at a time per function instance is plenty; the cap bounds a flood of uploads.
  reserved_concurrent_executions = 5
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = {
      RAW_BUCKET         = var.raw_bucket_name
      ORCHESTRATOR       = var.orchestrator
      STATE_MACHINE_ARNS = jsonencode(var.state_machine_arns)
      EXECUTION_INPUT    = jsonencode(var.execution_input)
      MWAA_ENVIRONMENT   = coalesce(var.mwaa_environment_name, "")
    }
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letters.arn
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.gate, aws_cloudwatch_log_group.gate]
}

resource "aws_lambda_function_event_invoke_config" "gate" {
  function_name                = aws_lambda_function.gate.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600
}

# --- S3 Object Created events of raw files -> the function ---

resource "aws_cloudwatch_event_rule" "raw_arrivals" {
  name        = "${local.function_name}-raw-arrivals"
  description = "Raw files landing in ${var.raw_bucket_name}: <entity>/ingest_date=<date>/<file>.csv"
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [var.raw_bucket_name] }
      object = { key = [{ wildcard = "*/ingest_date=*/*.csv" }] }
    }
  })
}

resource "aws_cloudwatch_event_target" "gate" {
  rule = aws_cloudwatch_event_rule.raw_arrivals.name
  arn  = aws_lambda_function.gate.arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }
}

resource "aws_lambda_permission" "events" {
  statement_id  = "AllowRawArrivalEvents"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.gate.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.raw_arrivals.arn
}
