output "alert_topic_arn" {
  description = "SNS topic receiving every alert."
  value       = aws_sns_topic.alerts.arn
}

output "state_machine_arns" {
  description = "State machine ARN per pipeline."
  value       = { for p, sm in aws_sfn_state_machine.this : p => sm.arn }
}

output "schedules" {
  description = "Schedule expression per scheduled pipeline."
  value       = { for p, s in aws_scheduler_schedule.pipeline : p => s.schedule_expression }
}

output "execution_input" {
  description = "The input the schedules pass to every state machine (start one by hand with the same input, plus an optional \"ds\")."
  value       = { config = local.execution_config }
}
