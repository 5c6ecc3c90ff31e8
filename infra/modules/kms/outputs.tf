output "data_key_arn" {
  description = "ARN of the data key: lake buckets, Glue, logs, topics, secrets, MWAA."
  value       = aws_kms_key.data.arn
}

output "data_key_id" {
  description = "ID of the data key."
  value       = aws_kms_key.data.key_id
}

output "warehouse_key_arn" {
  description = "ARN of the warehouse key: the Redshift cluster or namespace, its snapshots and admin secret."
  value       = aws_kms_key.warehouse.arn
}

output "warehouse_key_id" {
  description = "ID of the warehouse key."
  value       = aws_kms_key.warehouse.key_id
}

output "backup_key_arn" {
  description = "ARN of the backup key: the AWS Backup vault."
  value       = aws_kms_key.backup.arn
}

output "backup_key_id" {
  description = "ID of the backup key."
  value       = aws_kms_key.backup.key_id
}
