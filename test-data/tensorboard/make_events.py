"""Reference TensorBoard event file for TfEventsTest, written by TensorBoard's own protobufs and record writer.

Run: pip install tensorboard && python3 test-data/tensorboard/make_events.py
(writes test-data/tensorboard/reference.tfevents; made with tensorboard 2.x, see the test for what it checks).
"""
import os
import struct

from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.record_writer import RecordWriter

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "reference.tfevents"), "wb") as f:
    w = RecordWriter(f)
    w.write(Event(wall_time=1000.0, file_version="brain.Event:2").SerializeToString())
    w.write(Event(wall_time=1001.5, step=1, summary=Summary(value=[
        Summary.Value(tag="loss/total", simple_value=0.6931),
        Summary.Value(tag="lr/backbone", simple_value=0.05)])).SerializeToString())
    w.write(Event(wall_time=1002.25, step=300, summary=Summary(value=[
        Summary.Value(tag="loss/total", simple_value=-1.5e-3)])).SerializeToString())
    w.write(Event(wall_time=1003.0, step=2, session_log=SessionLog(status=SessionLog.START)).SerializeToString())
    w.flush()
