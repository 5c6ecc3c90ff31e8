output "bucket_names" {
  description = "Bucket name per purpose: raw, processed, scripts, logs."
  value       = { for k, b in aws_s3_bucket.this : k => b.bucket }
}

output "bucket_arns" {
  description = "Bucket ARN per purpose: raw, processed, scripts, logs."
  value       = { for k, b in aws_s3_bucket.this : k => b.arn }
}

output "access_logs_bucket_name" {
  description = "Bucket receiving S3 server access logs."
  value       = aws_s3_bucket.access_logs.bucket
}
