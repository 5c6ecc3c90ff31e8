# The second orchestrator and the alert path: one Step Functions state machine per pipeline (its
# definition is the generated infra/stepfunctions/<pipeline>.asl.json), started by EventBridge
# Scheduler at the pipeline's stepfunctions_schedule with the execution input the state machines
# read ($.config), and the SNS alert topic (KMS-encrypted), optionally relayed to Slack by AWS
# Chatbot.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  state_machine_names = { for p, _ in var.state_machines : p => "${var.name_prefix}-${p}" }
  state_machine_arns = {
    for p, name in local.state_machine_names : p => "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${name}"
  }
  scheduled = { for p, sm in var.state_machines : p => sm if sm.stepfunctions_schedule != null }

  # The execution input every state machine reads (see INPUT_EXAMPLE in dwh_tools.compile_stepfunctions).
  execution_config = {
    resource_prefix         = var.name_prefix
    redshift_cluster_id     = var.redshift.cluster_id
    redshift_workgroup      = var.redshift.workgroup_name
    redshift_database       = var.redshift.database_name
    redshift_secret_arn     = var.redshift.etl_secret_arn
    raw_uri                 = var.raw_uri
    processed_uri           = var.processed_uri
    iam_role_arn            = var.redshift.copy_role_arn
    glue_database           = var.glue_database
    glue_processed_database = var.glue_processed_database
    alert_topic_arn         = aws_sns_topic.alerts.arn
  }
}

# --- alerts ---

resource "aws_sns_topic" "alerts" {
  name              = "${var.name_prefix}-alerts"
  kms_master_key_id = var.kms_key_arn
}

data "aws_iam_policy_document" "alerts" {
  statement {
    sid     = "AlarmsAndEventsPublish"
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    }
    resources = [aws_sns_topic.alerts.arn]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alert_emails)
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.key
}

# --- state machines ---

resource "aws_cloudwatch_log_group" "state_machine" {
  for_each          = var.state_machines
  name              = "/aws/vendedlogs/states/${local.state_machine_names[each.key]}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_sfn_state_machine" "this" {
  for_each   = var.state_machines
  name       = local.state_machine_names[each.key]
  type       = "STANDARD"
  role_arn   = aws_iam_role.state_machine[each.key].arn
  definition = file(each.value.definition_file)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine[each.key].arn}:*"
    include_execution_data = true
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = var.kms_key_arn
    kms_data_key_reuse_period_seconds = 300
  }

  depends_on = [aws_iam_role_policy.state_machine]
}

# --- schedules ---

resource "aws_scheduler_schedule_group" "this" {
  name = var.name_prefix
}

resource "aws_scheduler_schedule" "pipeline" {
  for_each                     = local.scheduled
  name                         = local.state_machine_names[each.key]
  group_name                   = aws_scheduler_schedule_group.this.name
  description                  = "Starts ${local.state_machine_names[each.key]}: ${each.value.description}"
  schedule_expression          = each.value.stepfunctions_schedule
  schedule_expression_timezone = "UTC"
  state                        = var.schedule_state
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.this[each.key].arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ config = local.execution_config })

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 3
    }
  }
}

# --- Slack through AWS Chatbot (optional) ---

resource "aws_chatbot_slack_channel_configuration" "alerts" {
  count                 = var.slack_channel_id != null && var.slack_team_id != null ? 1 : 0
  region                = var.chatbot_region
  configuration_name    = "${var.name_prefix}-alerts"
  iam_role_arn          = aws_iam_role.chatbot[0].arn
  slack_channel_id      = var.slack_channel_id
  slack_team_id         = var.slack_team_id
  sns_topic_arns        = [aws_sns_topic.alerts.arn]
  guardrail_policy_arns = [aws_iam_policy.chatbot_guardrail[0].arn]
  logging_level         = "ERROR"
}
