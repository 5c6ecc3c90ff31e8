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

output "secret_arn" {
  description = "Secrets Manager secret holding the admin credentials (read by the Data API)."
  value       = local.provisioned ? aws_redshift_cluster.this[0].master_password_secret_arn : aws_redshiftserverless_namespace.this[0].admin_password_secret_arn
}

output "endpoint_address" {
  description = "Host name of the SQL endpoint."
  value       = local.provisioned ? aws_redshift_cluster.this[0].dns_name : aws_redshiftserverless_workgroup.this[0].endpoint[0].address
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
