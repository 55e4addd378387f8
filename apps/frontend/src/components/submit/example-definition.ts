/** A small valid job definition shown as a starting point on the submit page. */
export const EXAMPLE_DEFINITION = `job_name: smoke test
device_type: qemu
visibility: public
priority: medium
timeouts:
  job: {minutes: 10}
  action: {minutes: 5}
metadata:
  kernel.tree: mainline
  kernel.branch: master
  kernel.commit: 0123abcd
actions:
- deploy:
    to: tmpfs
    images:
      kernel:
        image_arg: -kernel {kernel}
        url: http://127.0.0.1:8000/bzImage
      initrd:
        image_arg: -initrd {initrd}
        url: http://127.0.0.1:8000/rootfs.cpio.gz
- boot:
    method: qemu
    media: tmpfs
    prompts: ["/ #"]
- test:
    definitions:
    - from: inline
      name: smoke
      path: inline/smoke.yaml
      repository:
        metadata: {format: Lava-Test Test Definition 1.0, name: smoke}
        run:
          steps:
          - lava-test-case uname --shell uname -a
`;
