provider "aws" {
  region = var.region
  default_tags {
    tags = local.tags
  }
}

# Destination region of cross-region replication (used only when enable_replication is set).
provider "aws" {
  alias  = "replica"
  region = var.replica_region
  default_tags {
    tags = local.tags
  }
}

locals {
  tags = {
    Project     = var.project
    Environment = local.environment
    ManagedBy   = "terraform"
  }
}
