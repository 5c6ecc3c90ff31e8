output "name_prefix" {
  description = "The environment prefix (Airflow Variable dwh_resource_prefix)."
  value       = local.name_prefix
}

output "bucket_names" {
  description = "Lake bucket per purpose."
  value       = module.storage.bucket_names
}

output "mwaa_bucket_name" {
  description = "MWAA source bucket (DWH_MWAA_BUCKET)."
  value       = module.mwaa.bucket_name
}

output "mwaa_environment_name" {
  description = "MWAA environment (DWH_MWAA_ENVIRONMENT)."
  value       = module.mwaa.environment_name
}

output "mwaa_webserver_url" {
  description = "Airflow UI host."
  value       = module.mwaa.webserver_url
}

output "glue_job_names" {
  description = "AWS Glue job per glue_job node."
  value       = module.glue.job_names
}

output "glue_crawler_names" {
  description = "AWS Glue crawler per crawler name."
  value       = module.glue.crawler_names
}

output "state_machine_arns" {
  description = "State machine per pipeline."
  value       = module.orchestration.state_machine_arns
}

output "stepfunctions_schedules" {
  description = "Schedule expression per scheduled pipeline."
  value       = module.orchestration.schedules
}

output "stepfunctions_execution_input" {
  description = "Input for a hand-started execution (add \"ds\": \"YYYY-MM-DD\" to run a given day)."
  value       = module.orchestration.execution_input
}

output "alert_topic_arn" {
  description = "SNS alert topic."
  value       = module.orchestration.alert_topic_arn
}

output "redshift_admin_secret_arn" {
  description = "Secret with the warehouse admin credentials (Terraform's; no workload uses it)."
  value       = module.redshift.admin_secret_arn
}

output "redshift_etl_secret_arn" {
  description = "Secret of the ETL user Airflow and Step Functions log in as."
  value       = module.redshift.etl_secret_arn
}

output "redshift_bi_secret_arn" {
  description = "Secret of the read-only BI user QuickSight logs in as."
  value       = module.redshift.bi_secret_arn
}

output "redshift_copy_role_arn" {
  description = "Role of COPY and Spectrum."
  value       = module.redshift.copy_role_arn
}

output "kms_key_arns" {
  description = "KMS key per purpose: data (lake, Glue, logs, topics, secrets, MWAA), warehouse (Redshift, its snapshots and admin secret), backup (the AWS Backup vault)."
  value = {
    data      = module.kms.data_key_arn
    warehouse = module.kms.warehouse_key_arn
    backup    = module.kms.backup_key_arn
  }
}

output "backup_vault_name" {
  description = "AWS Backup vault (null when backups are off)."
  value       = module.security.backup_vault_name
}
