# The deploy command reads these (see .github/workflows/deploy-*.yml).

output "mwaa_bucket_name" {
  description = "MWAA source bucket: DWH_MWAA_BUCKET."
  value       = module.platform.mwaa_bucket_name
}

output "scripts_bucket_name" {
  description = "Glue scripts bucket: DWH_SCRIPTS_BUCKET."
  value       = module.platform.bucket_names["scripts"]
}

output "mwaa_environment_name" {
  description = "MWAA environment: DWH_MWAA_ENVIRONMENT."
  value       = module.platform.mwaa_environment_name
}

output "mwaa_webserver_url" {
  description = "Airflow UI host."
  value       = module.platform.mwaa_webserver_url
}

output "bucket_names" {
  description = "Lake bucket per purpose."
  value       = module.platform.bucket_names
}

output "glue_job_names" {
  description = "AWS Glue job per glue_job node."
  value       = module.platform.glue_job_names
}

output "state_machine_arns" {
  description = "State machine per pipeline."
  value       = module.platform.state_machine_arns
}

output "stepfunctions_execution_input" {
  description = "Input for a hand-started execution."
  value       = module.platform.stepfunctions_execution_input
}

output "alert_topic_arn" {
  description = "SNS alert topic."
  value       = module.platform.alert_topic_arn
}

output "kms_key_arns" {
  description = "KMS key per purpose: data, warehouse, backup."
  value       = module.platform.kms_key_arns
}
