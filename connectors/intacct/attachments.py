"""Attachments as supporting documents: one folder, then one `create_supdoc` per document, referenced by SUPDOCID.

The supdoc id is derived from the document's reference, so a retry makes the same id: Intacct refuses it as a
duplicate, which tells us the attachment is already there and the document may reference it.
"""

import base64
import hashlib
import mimetypes
from pathlib import PurePosixPath
from xml.etree.ElementTree import Element, SubElement

from connectors.intacct.constants import SUPDOC_FOLDER, SUPDOC_FOLDER_DESCRIPTION, SUPDOC_ID_LENGTH, SUPDOC_ID_PREFIX
from connectors.intacct.envelope import Function, text_element
from core.domain import Attachment, Document


def supdoc_id(reference: str) -> str:
    digest = hashlib.sha256(reference.encode()).hexdigest().upper()
    return SUPDOC_ID_PREFIX + digest[: SUPDOC_ID_LENGTH - len(SUPDOC_ID_PREFIX)]


def supdoc_control_id(reference: str) -> str:
    return f"{reference}:attachments"


def folder_body() -> Element:
    element = Element("create_supdocfolder")
    text_element(element, "supdocfoldername", SUPDOC_FOLDER)
    text_element(element, "supdocfolderdescription", SUPDOC_FOLDER_DESCRIPTION)
    return element


def _name_and_type(attachment: Attachment) -> tuple[str, str]:
    """Intacct wants the name without its extension and the extension as the type (`receipt`, `pdf`)."""
    path = PurePosixPath(attachment.name)
    extension = path.suffix or mimetypes.guess_extension(attachment.content_type) or ""
    return (path.stem if path.suffix else attachment.name), extension.lstrip(".").lower()


def supdoc_function(document: Document) -> Function:
    element = Element("create_supdoc")
    text_element(element, "supdocid", supdoc_id(document.reference))
    text_element(element, "supdocname", document.reference)
    text_element(element, "supdocfoldername", SUPDOC_FOLDER)
    text_element(element, "supdocdescription", document.memo or document.reference)
    attachments = SubElement(element, "attachments")
    for attachment in document.attachments:
        entry = SubElement(attachments, "attachment")
        name, kind = _name_and_type(attachment)
        text_element(entry, "attachmentname", name)
        text_element(entry, "attachmenttype", kind)
        text_element(entry, "attachmentdata", base64.b64encode(attachment.content).decode("ascii"))
    return Function(supdoc_control_id(document.reference), element)
