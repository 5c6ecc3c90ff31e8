output "environment_name" {
  description = "Name of the MWAA environment (DWH_MWAA_ENVIRONMENT for the deploy command)."
  value       = aws_mwaa_environment.this.name
}

output "environment_arn" {
  description = "ARN of the MWAA environment."
  value       = aws_mwaa_environment.this.arn
}

output "webserver_url" {
  description = "Airflow UI host name."
  value       = aws_mwaa_environment.this.webserver_url
}

output "bucket_name" {
  description = "Source bucket (DWH_MWAA_BUCKET for the deploy command)."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "ARN of the source bucket (it logs to the access-log bucket of the storage module)."
  value       = aws_s3_bucket.this.arn
}

output "security_group_id" {
  description = "Security group of the environment."
  value       = aws_security_group.mwaa.id
}

output "execution_role_arn" {
  description = "Execution role of the environment."
  value       = aws_iam_role.execution.arn
}

output "variable_names" {
  description = "Airflow Variables served from Secrets Manager."
  value       = sort(keys(local.variables))
}

output "connection_ids" {
  description = "Airflow connections served from Secrets Manager."
  value       = sort(concat(keys(local.connections), ["slack_alerts"]))
}
