output "data_source_arn" {
  description = "QuickSight data source on the warehouse."
  value       = aws_quicksight_data_source.redshift.arn
}

output "data_set_arns" {
  description = "QuickSight dataset ARN per mart view."
  value       = { for k, d in aws_quicksight_data_set.mart : k => d.arn }
}

output "security_group_id" {
  description = "Security group of QuickSight's network interfaces (allowed into Redshift)."
  value       = aws_security_group.quicksight.id
}

output "dashboard_ids" {
  description = "QuickSight dashboard ID per page (executive, customer, product, operational)."
  value       = { for k, d in local.dashboards : k => d.dashboard_id }
}

output "dashboard_arns" {
  description = "QuickSight dashboard ARN per page (executive, customer, product, operational)."
  value       = { for k, d in local.dashboards : k => d.arn }
}
