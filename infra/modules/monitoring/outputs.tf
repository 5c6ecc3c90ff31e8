output "alarm_names" {
  description = "Names of every alarm."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.glue_failed : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.execution_failed : a.alarm_name],
    aws_cloudwatch_metric_alarm.mwaa_scheduler_heartbeat[*].alarm_name,
    aws_cloudwatch_metric_alarm.mwaa_import_errors[*].alarm_name,
  )
}

output "dashboard_name" {
  description = "The platform CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.platform.dashboard_name
}
