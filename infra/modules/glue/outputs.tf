output "job_names" {
  description = "AWS Glue job name per glue_job node id."
  value       = { for id, j in aws_glue_job.this : id => j.name }
}

output "job_arns" {
  description = "AWS Glue job ARN per glue_job node id."
  value       = { for id, j in aws_glue_job.this : id => j.arn }
}

output "crawler_names" {
  description = "AWS Glue crawler name per crawler."
  value       = { for c, x in aws_glue_crawler.this : c => x.name }
}

output "crawler_arns" {
  description = "AWS Glue crawler ARN per crawler."
  value       = { for c, x in aws_glue_crawler.this : c => x.arn }
}

output "database_name" {
  description = "Glue catalog database of the raw tables."
  value       = aws_glue_catalog_database.raw.name
}

output "database_arn" {
  description = "ARN of the raw catalog database."
  value       = aws_glue_catalog_database.raw.arn
}

output "processed_database_name" {
  description = "Glue catalog database of the processed and quarantine tables (Spectrum schema spectrum_processed)."
  value       = aws_glue_catalog_database.processed.name
}

output "processed_database_arn" {
  description = "ARN of the processed catalog database."
  value       = aws_glue_catalog_database.processed.arn
}
