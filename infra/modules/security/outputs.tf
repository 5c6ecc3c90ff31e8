output "trail_arn" {
  description = "CloudTrail trail ARN (null when disabled)."
  value       = one(aws_cloudtrail.this[*].arn)
}

output "backup_vault_name" {
  description = "AWS Backup vault name (null when disabled)."
  value       = one(aws_backup_vault.this[*].name)
}
