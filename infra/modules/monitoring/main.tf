# Alarms that page through the alert topic: a Glue job or crawler of the pipelines failed, a state
# machine execution failed or timed out, MWAA's scheduler stopped heart-beating or DAG files stopped
# importing. Glue failures arrive as EventBridge events; the rule forwards them to the topic at
# once and an alarm on the rule's matches gives them an alarm state and history.

locals {
  glue_failure_states    = ["FAILED", "TIMEOUT", "ERROR"]
  crawler_failure_states = ["Failed"]
}

resource "aws_cloudwatch_event_rule" "glue_job_failed" {
  name        = "${var.name_prefix}-glue-job-failed"
  description = "A Glue job of ${var.name_prefix} ended ${join("/", local.glue_failure_states)}"
  event_pattern = jsonencode({
    source        = ["aws.glue"]
    "detail-type" = ["Glue Job State Change"]
    detail = {
      jobName = length(var.glue_job_names) > 0 ? var.glue_job_names : ["${var.name_prefix}-none"]
      state   = local.glue_failure_states
    }
  })
}

resource "aws_cloudwatch_event_target" "glue_job_failed" {
  rule = aws_cloudwatch_event_rule.glue_job_failed.name
  arn  = var.alert_topic_arn

  input_transformer {
    input_paths = {
      job   = "$.detail.jobName"
      run   = "$.detail.jobRunId"
      state = "$.detail.state"
      why   = "$.detail.message"
    }
    input_template = "\"Glue job <job> run <run> ended <state>: <why>\""
  }
}

resource "aws_cloudwatch_event_rule" "glue_crawler_failed" {
  name        = "${var.name_prefix}-glue-crawler-failed"
  description = "A Glue crawler of ${var.name_prefix} failed"
  event_pattern = jsonencode({
    source        = ["aws.glue"]
    "detail-type" = ["Glue Crawler State Change"]
    detail = {
      crawlerName = length(var.glue_crawler_names) > 0 ? var.glue_crawler_names : ["${var.name_prefix}-none"]
      state       = local.crawler_failure_states
    }
  })
}

resource "aws_cloudwatch_event_target" "glue_crawler_failed" {
  rule = aws_cloudwatch_event_rule.glue_crawler_failed.name
  arn  = var.alert_topic_arn

  input_transformer {
    input_paths = {
      crawler = "$.detail.crawlerName"
      why     = "$.detail.errorMessage"
    }
    input_template = "\"Glue crawler <crawler> failed: <why>\""
  }
}

resource "aws_cloudwatch_metric_alarm" "glue_failed" {
  for_each = {
    job     = aws_cloudwatch_event_rule.glue_job_failed.name
    crawler = aws_cloudwatch_event_rule.glue_crawler_failed.name
  }
  alarm_name          = "${var.name_prefix}-glue-${each.key}-failed"
  alarm_description   = "A Glue ${each.key} of ${var.name_prefix} failed; the alert message names it. Read its CloudWatch logs (/aws-glue/...)."
  namespace           = "AWS/Events"
  metric_name         = "TriggeredRules"
  dimensions          = { RuleName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alert_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "execution_failed" {
  for_each            = var.state_machine_arns
  alarm_name          = "${var.name_prefix}-${each.key}-execution-failed"
  alarm_description   = "An execution of state machine ${var.name_prefix}-${each.key} failed, timed out or was aborted."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alert_topic_arn]

  metric_query {
    id          = "failures"
    expression  = "failed + timedout + aborted"
    label       = "Unsuccessful executions"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { failed = "ExecutionsFailed", timedout = "ExecutionsTimedOut", aborted = "ExecutionsAborted" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/States"
        metric_name = metric_query.value
        dimensions  = { StateMachineArn = each.value }
        stat        = "Sum"
        period      = 300
      }
    }
  }
}

# MWAA publishes Airflow's metrics under AmazonMWAA, dimensioned by environment and function.
resource "aws_cloudwatch_metric_alarm" "mwaa_scheduler_heartbeat" {
  count               = var.mwaa_environment_name == null ? 0 : 1
  alarm_name          = "${var.name_prefix}-mwaa-scheduler-down"
  alarm_description   = "MWAA ${var.mwaa_environment_name}: no scheduler heartbeat for 15 minutes; no task is being scheduled. Check the environment status and the scheduler log group."
  namespace           = "AmazonMWAA"
  metric_name         = "SchedulerHeartbeat"
  dimensions          = { Environment = var.mwaa_environment_name, Function = "Scheduler" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [var.alert_topic_arn]
  ok_actions          = [var.alert_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "mwaa_import_errors" {
  count               = var.mwaa_environment_name == null ? 0 : 1
  alarm_name          = "${var.name_prefix}-mwaa-dag-import-errors"
  alarm_description   = "MWAA ${var.mwaa_environment_name}: a DAG file fails to import, so its pipeline does not run. See Import errors in the Airflow UI."
  namespace           = "AmazonMWAA"
  metric_name         = "ImportErrors"
  dimensions          = { Environment = var.mwaa_environment_name, Function = "DAG Processing" }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alert_topic_arn]
  ok_actions          = [var.alert_topic_arn]
}
