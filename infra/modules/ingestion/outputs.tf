output "function_name" {
  description = "The arrival gate's Lambda function."
  value       = aws_lambda_function.gate.function_name
}

output "rule_name" {
  description = "EventBridge rule sending the raw bucket's Object Created events to the gate."
  value       = aws_cloudwatch_event_rule.raw_arrivals.name
}

output "dead_letter_queue_url" {
  description = "Queue receiving events the gate failed on after Lambda's retries."
  value       = aws_sqs_queue.dead_letters.url
}
