# One role per state machine, limited to that pipeline's Glue jobs and crawlers, the warehouse,
# the ETL user's secret and the alert topic; one role for the scheduler limited to starting them.

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  for_each           = var.state_machines
  name               = "${local.state_machine_names[each.key]}-sfn"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

data "aws_iam_policy_document" "state_machine" {
  for_each = var.state_machines

  dynamic "statement" {
    for_each = length(each.value.glue_jobs) > 0 ? [1] : []
    content {
      sid       = "RunGlueJobs"
      actions   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
      resources = [for id in each.value.glue_jobs : var.glue_job_arns[id]]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.glue_crawlers) > 0 ? [1] : []
    content {
      sid       = "RunGlueCrawlers"
      actions   = ["glue:StartCrawler", "glue:GetCrawler"]
      resources = [for c in each.value.glue_crawlers : var.glue_crawler_arns[c]]
    }
  }

  statement {
    sid       = "RunWarehouseStatements"
    actions   = ["redshift-data:ExecuteStatement", "redshift-data:BatchExecuteStatement"]
    resources = [var.redshift.data_api_resource_arn]
  }

  statement {
    sid     = "FollowWarehouseStatements"
    actions = ["redshift-data:DescribeStatement", "redshift-data:GetStatementResult"]
    # no resource-level permissions: these Data API actions address statements by id only.
    resources = ["*"]
  }

  statement {
    sid       = "ReadWarehouseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.redshift.etl_secret_arn] # the ETL user's, never the admin's
  }

  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }

  statement {
    sid       = "UseDataKeyForSecretAndTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com", "sns.${local.region}.amazonaws.com"]
    }
  }

  # The warehouse's admin secret is encrypted with the warehouse key when it has its own.
  dynamic "statement" {
    for_each = var.warehouse_kms_key_arn == null ? [] : [var.warehouse_kms_key_arn]
    content {
      sid       = "DecryptWarehouseSecret"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }

  statement {
    sid       = "UseDataKeyForExecutionState"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:states:stateMachineArn"
      values   = [local.state_machine_arns[each.key]]
    }
  }

  statement {
    sid = "DeliverExecutionLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    # no resource-level permissions: CloudWatch Logs vended-log delivery APIs accept only "*".
    resources = ["*"]
  }

  statement {
    sid     = "SendTraces"
    actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    # no resource-level permissions: X-Ray trace ingestion accepts only "*".
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "state_machine" {
  for_each = var.state_machines
  name     = "run-${each.key}"
  role     = aws_iam_role.state_machine[each.key].id
  policy   = data.aws_iam_policy_document.state_machine[each.key].json
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name_prefix}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "StartPipelines"
    actions   = ["states:StartExecution"]
    resources = values(local.state_machine_arns)
  }

  statement {
    sid       = "EncryptExecutionInput"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:states:stateMachineArn"
      values   = values(local.state_machine_arns)
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "start-pipelines"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

# --- AWS Chatbot ---

data "aws_iam_policy_document" "chatbot_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["chatbot.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "chatbot" {
  count              = var.slack_channel_id != null && var.slack_team_id != null ? 1 : 0
  name               = "${var.name_prefix}-chatbot"
  assume_role_policy = data.aws_iam_policy_document.chatbot_assume.json
}

# Channel members may only read the pipeline alarms' state, whatever their own permissions.
data "aws_iam_policy_document" "chatbot_guardrail" {
  statement {
    sid       = "ReadPipelineAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name_prefix}-*"]
  }
}

resource "aws_iam_policy" "chatbot_guardrail" {
  count  = var.slack_channel_id != null && var.slack_team_id != null ? 1 : 0
  name   = "${var.name_prefix}-chatbot-guardrail"
  policy = data.aws_iam_policy_document.chatbot_guardrail.json
}

resource "aws_iam_role_policy" "chatbot" {
  count  = var.slack_channel_id != null && var.slack_team_id != null ? 1 : 0
  name   = "read-pipeline-alarms"
  role   = aws_iam_role.chatbot[0].id
  policy = data.aws_iam_policy_document.chatbot_guardrail.json
}
