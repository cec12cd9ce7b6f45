package io.mlctl.provider;

/** The account (AWS account id, GCP project, Azure subscription) and region a driver works in. */
public record Target(String account, String region) {
}
