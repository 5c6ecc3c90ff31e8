# Optional cross-region replication of the buckets in var.replicated_buckets (raw and processed by
# default: the data that cannot be recreated from elsewhere). Replicas live in the region of the
# aws.replica provider, encrypted with a key of their own. Deletions are not replicated: a
# delete marker or a deleted version in the source leaves the replica's copy in place. The
# replica of a bucket with Object Lock has Object Lock too (S3 replicates locked objects only
# there), and the copies keep the retention of their source versions.

data "aws_region" "replica" {
  provider = aws.replica
}

resource "aws_kms_key" "replica" {
  #checkov:skip=CKV2_AWS_64:default key policy (account IAM decides); only the replication role and S3 use it
  count                   = var.enable_replication ? 1 : 0
  provider                = aws.replica
  description             = "${var.name_prefix} replicated data at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_s3_bucket" "replica" {
  #checkov:skip=CKV_AWS_18:replicas hold copies; access logging is on the source buckets
  #checkov:skip=CKV_AWS_144:a replica is itself the cross-region copy
  #checkov:skip=CKV2_AWS_62:replicas are written by replication only; nothing consumes their events
  #checkov:skip=CKV2_AWS_61:lifecycle configuration is aws_s3_bucket_lifecycle_configuration.replica
  for_each      = local.replicated
  provider      = aws.replica
  bucket        = "${var.name_prefix}-${each.key}-replica-${local.account_id}-${data.aws_region.replica.region}"
  force_destroy = var.force_destroy
  # As for the source buckets: set on creation, enabled in place by the configuration below.
  object_lock_enabled = contains(keys(local.object_lock_days), each.key)

  lifecycle {
    ignore_changes = [object_lock_enabled]
  }
}

# No default retention: each replicated version carries its source version's retain-until date.
resource "aws_s3_bucket_object_lock_configuration" "replica" {
  for_each            = { for b in local.replicated : b => local.object_lock_days[b] if contains(keys(local.object_lock_days), b) }
  provider            = aws.replica
  bucket              = aws_s3_bucket.replica[each.key].id
  object_lock_enabled = "Enabled"
  depends_on          = [aws_s3_bucket_versioning.replica]
}

resource "aws_s3_bucket_versioning" "replica" {
  for_each = local.replicated
  provider = aws.replica
  bucket   = aws_s3_bucket.replica[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica" {
  for_each = local.replicated
  provider = aws.replica
  bucket   = aws_s3_bucket.replica[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.replica[0].arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "replica" {
  for_each                = local.replicated
  provider                = aws.replica
  bucket                  = aws_s3_bucket.replica[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "replica" {
  for_each = local.replicated
  provider = aws.replica
  bucket   = aws_s3_bucket.replica[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "replica" {
  for_each = local.replicated
  provider = aws.replica
  bucket   = aws_s3_bucket.replica[each.key].id
  rule {
    id     = "noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.replica]
}

data "aws_iam_policy_document" "replication_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "replication" {
  count              = var.enable_replication ? 1 : 0
  name               = "${var.name_prefix}-s3-replication"
  assume_role_policy = data.aws_iam_policy_document.replication_assume.json
}

data "aws_iam_policy_document" "replication" {
  count = var.enable_replication ? 1 : 0

  statement {
    sid       = "ReadSourceConfiguration"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [for b in local.replicated : aws_s3_bucket.this[b].arn]
  }

  statement {
    sid       = "ReadSourceObjects"
    actions   = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold"]
    resources = [for b in local.replicated : "${aws_s3_bucket.this[b].arn}/*"]
  }

  statement {
    sid       = "WriteReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateTags"]
    resources = [for b in aws_s3_bucket.replica : "${b.arn}/*"]
  }

  statement {
    sid       = "DecryptSource"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "EncryptReplica"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.replica[0].arn]
  }
}

resource "aws_iam_role_policy" "replication" {
  count  = var.enable_replication ? 1 : 0
  name   = "replicate-buckets"
  role   = aws_iam_role.replication[0].id
  policy = data.aws_iam_policy_document.replication[0].json
}

resource "aws_s3_bucket_replication_configuration" "this" {
  for_each = local.replicated
  bucket   = aws_s3_bucket.this[each.key].id
  role     = aws_iam_role.replication[0].arn

  rule {
    id     = "cross-region"
    status = "Enabled"
    filter {}
    delete_marker_replication {
      status = "Disabled"
    }
    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }
    destination {
      bucket        = aws_s3_bucket.replica[each.key].arn
      storage_class = "STANDARD_IA"
      encryption_configuration {
        replica_kms_key_id = aws_kms_key.replica[0].arn
      }
    }
  }

  depends_on = [
    aws_s3_bucket_versioning.this,
    aws_s3_bucket_versioning.replica,
    aws_s3_bucket_object_lock_configuration.replica,
  ]
}
