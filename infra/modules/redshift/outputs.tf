output "cluster_id" {
  description = "Cluster identifier (empty with Serverless)."
  value       = local.provisioned ? aws_redshift_cluster.this[0].cluster_identifier : ""
}

output "workgroup_name" {
  description = "Serverless workgroup name (empty with a provisioned cluster)."
  value       = var.serverless ? aws_redshiftserverless_workgroup.this[0].workgroup_name : ""
}

output "data_api_resource_arn" {
  description = "ARN the Redshift Data API calls address: the cluster or the workgroup."
  value       = local.provisioned ? aws_redshift_cluster.this[0].arn : aws_redshiftserverless_workgroup.this[0].arn
}

output "database_name" {
  description = "Warehouse database name."
  value       = var.database_name
}

output "admin_username" {
  description = "Admin user name."
  value       = var.admin_username
}

output "admin_secret_arn" {
  description = "Secrets Manager secret of the admin credentials: Terraform's alone (users and grants); no workload uses it."
  value       = local.admin_secret_arn
}

output "etl_username" {
  description = "Database user of Airflow and Step Functions (owns staging, dw, ops, mart)."
  value       = var.etl_username
}

output "etl_secret_arn" {
  description = "Secrets Manager secret of the ETL user (read by the Data API for Airflow and Step Functions)."
  value       = aws_secretsmanager_secret.user["etl"].arn
  # Usable once the user, its password and its grants are in Redshift.
  depends_on = [aws_secretsmanager_secret_version.user, aws_redshiftdata_statement.lockdown]
}

output "bi_username" {
  description = "Database user of QuickSight (reads mart only)."
  value       = var.bi_username
}

output "bi_secret_arn" {
  description = "Secrets Manager secret of the BI user (QuickSight's data source)."
  value       = aws_secretsmanager_secret.user["bi"].arn
  # Usable once the user, its password and its grants are in Redshift.
  depends_on = [aws_secretsmanager_secret_version.user, aws_redshiftdata_statement.lockdown]
}

output "endpoint_address" {
  description = "Host name of the SQL endpoint."
  value       = local.endpoint_address
}

output "port" {
  description = "SQL port."
  value       = var.port
}

output "copy_role_arn" {
  description = "Role used by COPY and Spectrum (the iam_role_arn of the SQL templates)."
  value       = aws_iam_role.copy.arn
}

output "security_group_id" {
  description = "Security group of the warehouse."
  value       = aws_security_group.redshift.id
}

output "cluster_arn" {
  description = "Cluster ARN (empty with Serverless); AWS Backup protects it."
  value       = local.provisioned ? aws_redshift_cluster.this[0].arn : ""
}
