"""S3's error codes, named after them, with S3's wording. Each carries the extra elements S3 puts in its
``<Error>`` document (``BucketName``, ``Key``, ``ProposedSize``…) in ``details``."""

from __future__ import annotations

from typing import Any

from core.errors import IamError


class S3Error(IamError):
    code, status = "InvalidRequest", 400

    def __init__(self, message: str | None = None, *, explanation: Any = None, **details: str) -> None:
        super().__init__(message or self.default_message, explanation=explanation)
        self.details = {k: v for k, v in details.items() if v is not None}

    default_message = "Invalid Request"


class InvalidRequest(S3Error):
    code, status = "InvalidRequest", 400


class InvalidArgument(S3Error):
    code, status = "InvalidArgument", 400
    default_message = "Invalid Argument"


class InvalidBucketName(S3Error):
    code, status = "InvalidBucketName", 400
    default_message = "The specified bucket is not valid."


class NoSuchBucket(S3Error):
    code, status = "NoSuchBucket", 404
    default_message = "The specified bucket does not exist"


class NoSuchKey(S3Error):
    code, status = "NoSuchKey", 404
    default_message = "The specified key does not exist."


class BucketAlreadyExists(S3Error):
    code, status = "BucketAlreadyExists", 409
    default_message = (
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. "
        "Please select a different name and try again."
    )


class BucketAlreadyOwnedByYou(S3Error):
    code, status = "BucketAlreadyOwnedByYou", 409
    default_message = "Your previous request to create the named bucket succeeded and you already own it."


class BucketNotEmpty(S3Error):
    code, status = "BucketNotEmpty", 409
    default_message = "The bucket you tried to delete is not empty"


class TooManyBuckets(S3Error):
    code, status = "TooManyBuckets", 400
    default_message = "You have attempted to create more buckets than allowed"


class EntityTooLarge(S3Error):
    code, status = "EntityTooLarge", 400
    default_message = "Your proposed upload exceeds the maximum allowed size"


class QuotaExceeded(S3Error):
    """Not an AWS code: this practice service caps each account's storage (S3_ACCOUNT_QUOTA)."""

    code, status = "QuotaExceeded", 403
    default_message = "Your account's storage quota for this practice service would be exceeded"


class KeyTooLongError(S3Error):
    code, status = "KeyTooLongError", 400
    default_message = "Your key is too long"


class NoSuchBucketPolicy(S3Error):
    code, status = "NoSuchBucketPolicy", 404
    default_message = "The bucket policy does not exist"


class MalformedPolicy(S3Error):
    code, status = "MalformedPolicy", 400
    default_message = "Policies must be valid JSON and the first byte must be '{'"


class NoSuchTagSet(S3Error):
    code, status = "NoSuchTagSet", 404
    default_message = "The TagSet does not exist"


class InvalidTag(S3Error):
    code, status = "InvalidTag", 400
    default_message = "The TagValue you have provided is invalid"


class NoSuchPublicAccessBlockConfiguration(S3Error):
    code, status = "NoSuchPublicAccessBlockConfiguration", 404
    default_message = "The public access block configuration was not found"


class MalformedXML(S3Error):
    code, status = "MalformedXML", 400
    default_message = "The XML you provided was not well-formed or did not validate against our published schema"


class InvalidLocationConstraint(S3Error):
    code, status = "InvalidLocationConstraint", 400
    default_message = "The specified location-constraint is not valid"


class FeatureNotImplemented(S3Error):
    code, status = "NotImplemented", 501
    default_message = "A header you provided implies functionality that is not implemented"


class MethodNotAllowed(S3Error):
    code, status = "MethodNotAllowed", 405
    default_message = "The specified method is not allowed against this resource."


class XAmzContentSHA256Mismatch(S3Error):
    code, status = "XAmzContentSHA256Mismatch", 400
    default_message = "The provided 'x-amz-content-sha256' header does not match what was computed."


class MissingContentLength(S3Error):
    code, status = "MissingContentLength", 411
    default_message = "You must provide the Content-Length HTTP header."


class IncompleteBody(S3Error):
    code, status = "IncompleteBody", 400
    default_message = "You did not provide the number of bytes specified by the Content-Length HTTP header"


class InvalidAccessKeyId(S3Error):
    code, status = "InvalidAccessKeyId", 403
    default_message = "The AWS Access Key Id you provided does not exist in our records."


class AccessDeniedS3(S3Error):
    """AccessDenied that S3 answers without a policy decision (Block Public Access, anonymous requests)."""

    code, status = "AccessDenied", 403
    default_message = "Access Denied"


class InvalidRange(S3Error):
    code, status = "InvalidRange", 416
    default_message = "The requested range is not satisfiable"


class InternalError(S3Error):
    """The service's own failure (an object whose body file is gone), as S3 words it."""

    code, status, sender_fault = "InternalError", 500, False
    default_message = "We encountered an internal error. Please try again."
